import type { EventName, Events } from './contract';

type Listener<E extends EventName> = (payload: Events[E]) => void;

/** The main process's event streams. Transports subscribe and forward; every `on` returns its disposer. */
export class EventBus {
  private readonly listeners = new Map<EventName, Set<Listener<EventName>>>();

  on<E extends EventName>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<EventName>);
    return () => set.delete(listener as Listener<EventName>);
  }

  emit<E extends EventName>(event: E, payload: Events[E]): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        listener(payload);
      } catch (err) {
        console.error(`listener for ${event} failed:`, err);
      }
    }
  }
}
