import { useTerminal } from './TerminalContext';

/** "Shell" and "Firewall" for one workload: open its shell, or its firewall's (the pod's holder), in the dock. */
export function OpenTerminalButtons({ workload, replica }: { workload: string; replica?: number }) {
  const { openTerminal } = useTerminal();
  const at = replica ? { replica } : {};
  return (
    <span className="open-terminal">
      <button
        type="button"
        onClick={() => openTerminal({ workload, ...at })}
        aria-label={`Open a terminal in ${workload}`}
        title={`A shell in ${workload}, as its app's user`}
      >
        Shell
      </button>
      <button
        type="button"
        onClick={() => openTerminal({ workload, ...at, firewall: true })}
        aria-label={`Open a terminal in the firewall of ${workload}`}
        title={`A shell in ${workload}'s firewall (its pod's holder), as root with NET_ADMIN (nft list ruleset)`}
      >
        Firewall
      </button>
    </span>
  );
}
