/**
 * The firewall containers' main process and the open line to it: every pod's holder
 * (holder.ts) runs this main process after its closed table, and the firewall agent (agent.ts)
 * takes its states through the same line. The name is historical: MicroLab once put a
 * "sidecar" container into each workload's namespace; every workload is a pod now, and what
 * remains here is what a holder runs and how a table reaches it.
 *
 * The main process runs `nft monitor trace` once for the container's life; its output, each
 * traced rule named as the table was when the packet was traced (TRACE_RESOLVER), is the
 * container's log, which is the flow log's history. Tables and connection listings go through
 * its attached input (one round trip, no process start); counters and probes are exec'd into it.
 */
import type Docker from 'dockerode';
import { execIn } from '../engine/exec';
import { LABEL } from '../engine/labels';
import { engineIsPodman, withNetworkModes } from '../engine/podman';
import { demux, lines } from '../engine/streams';
import { withTimeout } from '../wait';
import { TABLE } from './compile';

export const FIREWALL_ROLE = 'firewall';
/** On a namespace holder (holder.ts), which owns the namespace its app joins: the name of that app container. */
export const HOLDER_LABEL = 'io.microlab.firewall.holder';

/**
 * Whole lines only, each in one write: `nft monitor trace` writes a line in pieces (it flushes
 * after every field it prints), and a piece of another writer (a load's answer, a listed
 * connection) could land between two of them; Podman's log (conmon, 4.3) also stores each piece
 * as an entry of its own and returns the pieces of a burst out of order, which garbled the flow
 * log there. So the monitor and the connection listing write through this filter.
 */
export const WHOLE_LINES = "grep --line-buffered ''";
/** The named pipe the trace monitor writes into, read by one WHOLE_LINES filter that lives as long as its container. */
export const TRACE_PIPE = '/tmp/microlab.trace';
/** The named pipe TRACE_RESOLVER reads: whole lines of the trace monitor and of the main process's `nft -i`, in order. */
const RESOLVER_PIPE = '/tmp/microlab.resolve';
/** The named pipes of the main process's own `nft -i` (see MAIN): its input, and its output (read into RESOLVER_PIPE through SHORT_LINES). */
const NFT_IN = '/tmp/microlab.nft-in';
const NFT_RAW = '/tmp/microlab.nft-raw';
/**
 * Each line cut to its first 3,000 bytes and written whole, in one write: RESOLVER_PIPE has
 * several writers, and only a write of at most PIPE_BUF bytes (4,096 on Linux) lands in one
 * piece, so a main loop's announcement could split a longer line (`nft -i` echoes a failing table,
 * up to 1 MiB, whole). What the resolver reads there fits: errors, markers, listed rules (a rule
 * longer than that loses its handle, and a trace of it reads "unknown rule handle N").
 */
const SHORT_LINES = 'stdbuf -oL cut -b 1-3000';

/**
 * The resolver's answers: where the namespace's connections are read (`conntrack`:
 * /proc/net/nf_conntrack unless set), `answer(dest, line)` (a load's answer goes to stdout when
 * `dest` is "-", or, for a load by exec on Podman, into "dest.ack", whole, and the load's file
 * goes), and `connections(id)`: the namespace's connection tracking table, each entry as
 * "microlab-ct id ENTRY", then "microlab-listed id ok" (or "failed: ..."), read from the kernel's
 * file (one entry a line) or, where the kernel has none, from `conntrack -L`.
 */
const ANSWERS = String.raw`BEGIN { if (conntrack == "") conntrack = "/proc/net/nf_conntrack" }
function answer(dest, line) {
  if (dest == "-") { print line; fflush(); return }
  print line > (dest ".part"); close(dest ".part")
  system("mv " dest ".part " dest ".ack; rm -f " dest)
}
function connections(id,   entry, r, err) {
  r = (getline entry < conntrack)
  if (r >= 0) {
    while (r > 0) { print "microlab-ct " id " " entry; r = (getline entry < conntrack) }
    close(conntrack)
    print "microlab-listed " id " ok"
  } else if (system("conntrack -L > /tmp/conntrack 2> /tmp/error") == 0) {
    while ((getline entry < "/tmp/conntrack") > 0) print "microlab-ct " id " " entry
    close("/tmp/conntrack")
    print "microlab-listed " id " ok"
  } else {
    err = ""
    while ((getline entry < "/tmp/error") > 0) err = err entry " "
    close("/tmp/error")
    print "microlab-listed " id " failed: " err
  }
  fflush()
}
`;

/**
 * Names each traced rule as the table was when its packet was traced, and answers the main
 * process's loads and listings in the order `nft -i` carried them out: an awk program (after
 * ANSWERS), run as `awk -W interactive -v table=NAME`, reading whole lines (WHOLE_LINES) of
 * the trace monitor (`nft -a monitor trace`), of the main process's `nft -i`, and of the main
 * process itself, as one stream in the order they were written, and writing trace lines and
 * answers, one a line, to stdout.
 *
 * The monitor looks a traced rule up by its handle among the rules it read at its start
 * (nftables 1.0.6): a rule added since prints as "CHAIN unknown rule handle N (verdict V)"; and
 * since a table file deletes and adds its table again, which numbers the new table's rules from
 * the start once more, a rule of the old table that had the same handle prints in the new one's
 * place. So after every load the main process lists the table with its handles, and this
 * program reads that listing ("table inet NAME { # handle T" to "}") where it falls in the
 * stream. A "trace id ... inet NAME CHAIN rule ... # handle N (verdict V)" or "... CHAIN unknown
 * rule handle N (verdict V)" line leaves as "... CHAIN rule RULE (verdict V)", RULE the rule of
 * handle N in the latest listing before it (the monitor's own text before any listing, when it
 * still knows the table), or as "... CHAIN unknown rule handle N (verdict V)" when that
 * listing has no such handle. Other trace lines pass unchanged.
 *
 * Answers: the main process announces a load as "microlab-pending N ID DEST" and a listing as
 * "microlab-pending-list N ID" before it hands `nft -i` the marker command that ends it ("list
 * table inet microlab_ack_N" or "microlab_list_N", which fails naming itself). When the marker's
 * line comes, a load is answered (`answer`) "microlab-load ID ok", or "microlab-load ID failed:"
 * and the errors `nft -i` printed since the last marker but the marker's own; a listing is taken
 * then (`connections`), after the load before it. Announcements are read first wherever they
 * fall, inside a listing too (another load may be announced while `nft -i` lists). Without
 * `nft -i`, the main process sends "microlab-answer DEST LINE" and "microlab-list-now ID",
 * answered at once: every answer leaves from here, whole (mawk writes a line and its newline
 * in two writes, and the container's stdout has other writers). Every other line carries
 * nothing more.
 */
export const TRACE_RESOLVER =
  ANSWERS +
  String.raw`$1 == "microlab-pending" && NF == 4 { load_id[$2] = $3; load_dest[$2] = $4; next }
$1 == "microlab-pending-list" && NF == 3 { list_id[$2] = $3; next }
$1 == "microlab-answer" && NF >= 3 { answer($2, substr($0, length($1) + length($2) + 3)); next }
$1 == "microlab-list-now" && NF == 2 { connections($2); next }
$1 == "trace" && $2 == "id" {
  if ($4 != "inet" || $5 != table || ($7 != "rule" && $7 != "unknown") || !match($0, / \(verdict [^)]*\) *$/)) { print; next }
  head = $1 " " $2 " " $3 " " $4 " " $5 " " $6 " "
  tail = substr($0, RSTART)
  before = substr($0, 1, RSTART - 1)
  if (!match(before, /handle [0-9]+$/)) { print; next }
  h = substr(before, RSTART + 7)
  text = ""
  if ($7 == "rule" && match(before, / # handle [0-9]+$/)) text = substr(before, length(head) + 6, RSTART - length(head) - 6)
  if (h in rules) print head "rule " rules[h] tail
  else if (!listed && text != "") print head "rule " text tail
  else print head "unknown rule handle " h tail
  next
}
$1 == "table" && $2 == "inet" && $3 == table && $4 == "{" && $5 == "#" && $6 == "handle" && NF == 7 {
  listing = 1; listed = 1; split("", rules); next
}
listing && $0 == "}" { listing = 0; next }
listing {
  if (match($0, / # handle [0-9]+$/)) {
    rule = substr($0, 1, RSTART - 1)
    h = substr($0, RSTART + 10)
    sub(/^[ \t]+/, "", rule)
    if (rule !~ /[{]$/) rules[h] = rule
  }
  next
}
/^Error:/ { if (last != "") errors = errors " " last; last = $0; next }
$1 == "list" && $2 == "table" && $3 == "inet" && $4 ~ /^microlab_ack_[0-9]+$/ {
  n = substr($4, 14)
  if (n in load_id) {
    answer(load_dest[n], "microlab-load " load_id[n] (errors == "" ? " ok" : " failed:" errors))
    delete load_id[n]; delete load_dest[n]
  }
  errors = ""; last = ""; next
}
$1 == "list" && $2 == "table" && $3 == "inet" && $4 ~ /^microlab_list_[0-9]+$/ {
  n = substr($4, 15)
  if (n in list_id) { connections(list_id[n]); delete list_id[n] }
  errors = ""; last = ""; next
}
`;

/**
 * The loop of a holder's main process: an awk program, run as
 * `awk -W interactive -v nft=PID -v table=NAME -v nftin=PIPE -v resolver=PIPE -v whole=FILTER`,
 * reading its input, which mawk then takes a block at a time and not, as the shell's `read`, a
 * byte at a time (a 3 KB table: one read against 3,000), with no process started per load
 * (taking a table with `head -c` cost a fork and an exec each). Its input:
 * - "BEGIN id [SIZE]", the file's lines, "END id": the lines joined into one (as `tableLine`;
 *   SIZE, for holders of an older MicroLab, is not needed) and loaded: announced to the resolver
 *   ("microlab-pending"), then handed to the running `nft -i` (`nft`, its pid) as one line (nft
 *   reads a line's commands, separated by ";", as one transaction), followed by
 *   `list ruleset inet` (the listing TRACE_RESOLVER names rules by: nothing, and no error, when
 *   the file removed ours) and the marker that ends the load. The resolver answers it.
 * - "LOAD id FILE" (Podman, by exec): the same, from FILE, answered into "FILE.ack".
 * - "LIST id": the namespace's connections, listed by the resolver once `nft -i` reaches its
 *   marker, so after the loads before it.
 * Under load, a process start of `nft -f` cost 16 ms here and a line to the running `nft -i`
 * 0.7 ms (nftables 1.0.6). Where `nft -i` is not running (an nft built without its interactive
 * mode; `running` reads its /proc entry, a process named nft and not a zombie), it loads with
 * `nft -f`, lists the table into the resolver's stream itself, and has the resolver answer
 * (its errors cut to 2,000 bytes, so that the line goes whole) and list at once.
 */
const MAIN_LOOP = String.raw`BEGIN { proc = "/proc/" nft "/stat"; n = 0 }
function running(   line, r) { r = (getline line < proc); close(proc); return r > 0 && line ~ /^[0-9]+ \(nft\) [^ZX]/ }
function tell(line) { print line > resolver; fflush(resolver) }
function join(line) {
  sub(/^[ \t\n\v\f\r]+/, "", line)
  if (line == "" || substr(line, 1, 1) == "#") return
  if (tbl == "" || tbl ~ /[{;]$/) tbl = tbl " " line
  else tbl = tbl " ; " line
}
function load(id, dest,   line, errors) {
  if (running()) {
    n++
    tell("microlab-pending " n " " id " " dest)
    print tbl "\nlist ruleset inet\nlist table inet microlab_ack_" n > nftin; fflush(nftin)
    return
  }
  print tbl > "/tmp/microlab.table"; close("/tmp/microlab.table")
  errors = ""
  if (system("nft -f /tmp/microlab.table 2> /tmp/error") != 0) {
    while ((getline line < "/tmp/error") > 0) errors = errors " " line
    close("/tmp/error")
  } else system("nft -a list table inet " table " 2> /dev/null | " whole " 1<> " resolver)
  tell("microlab-answer " dest " microlab-load " id (errors == "" ? " ok" : " failed:" substr(errors, 1, 2000)))
}
/^BEGIN / { tbl = ""; next }
/^END / { load($2, "-"); next }
/^LOAD / {
  tbl = ""; file = $3
  while ((getline line < file) > 0) join(line)
  close(file)
  load($2, file); next
}
/^LIST / {
  if (!running()) { tell("microlab-list-now " $2); next }
  n++
  tell("microlab-pending-list " n " " $2)
  print "list table inet microlab_list_" n > nftin; fflush(nftin)
  next
}
{ join($0) }
`;

/**
 * The sidecar's main process, a shell script: makes the pipes, starts the trace monitor, the
 * container's `nft -i` and TRACE_RESOLVER, then runs MAIN_LOOP on its input and waits for it
 * (the container's first process, it also reaps what exec'd processes leave behind). MAIN_LOOP
 * reads table files and listing requests and hands them to `nft -i` in order; the resolver answers
 * each ("microlab-load id ok" or "microlab-load id failed: ..."; a listing's "microlab-ct id
 * ENTRY" lines and "microlab-listed id ok") on the container's stdout. The monitor, started
 * once, never restarts (restarting it after each load, as MicroLab did before, cost a process
 * start per load and lost the traces of its gap). Loading and listing through the attached stdin
 * cost no process start in the container, unlike an exec.
 */
const MAIN = `for p in ${TRACE_PIPE} ${RESOLVER_PIPE} ${NFT_IN} ${NFT_RAW}; do [ -p $p ] || mkfifo $p; done
exec 5<> ${NFT_IN}
cat > /tmp/microlab.resolve.awk << 'MICROLAB_AWK'
${TRACE_RESOLVER}MICROLAB_AWK
cat > /tmp/microlab.main.awk << 'MICROLAB_AWK'
${MAIN_LOOP}MICROLAB_AWK
awk -W interactive -v table=${TABLE} -f /tmp/microlab.resolve.awk 0<> ${RESOLVER_PIPE} | ${WHOLE_LINES} &
${WHOLE_LINES} 0<> ${TRACE_PIPE} 1<> ${RESOLVER_PIPE} &
${SHORT_LINES} 0<> ${NFT_RAW} 1<> ${RESOLVER_PIPE} &
nft -a monitor trace > ${TRACE_PIPE} &
nft -a -i <&5 > ${NFT_RAW} 2>&1 & nft=$!
exec 3<&0
awk -W interactive -v nft=$nft -v table=${TABLE} -v nftin=${NFT_IN} -v resolver=${RESOLVER_PIPE} -v whole="${WHOLE_LINES}" -f /tmp/microlab.main.awk <&3 3<&- &
wait $!`;

/**
 * Podman's conmon closes a container's input for good when an attach that wrote to it ends
 * (Docker keeps it open), so on Podman a holder reads its loads from a named pipe it holds
 * open itself, and a load arrives by exec (`PODMAN_LOAD`): the file is written in the
 * container, one short "LOAD id file" line goes through the pipe (atomic, so loads at once
 * never interleave), and the exec waits for the answer in "file.ack".
 */
export const LOAD_PIPE = '/tmp/microlab.in';
export const PODMAN_INPUT = `[ -p ${LOAD_PIPE} ] || mkfifo ${LOAD_PIPE}; exec 0<> ${LOAD_PIPE}`;
const PODMAN_LOAD = (id: string) =>
  `f=$(mktemp /tmp/microlab-load.XXXXXX) && cat > "$f" && echo "LOAD ${id} $f" > ${LOAD_PIPE} && ` +
  `while [ ! -e "$f.ack" ]; do sleep 0.05; done; cat "$f.ack"; rm -f "$f.ack"`;
const MAX_TABLE_BYTES = 1024 * 1024;

function checkSize(text: string): void {
  if (Buffer.byteLength(text) > MAX_TABLE_BYTES)
    throw new Error(`the compiled table is ${Buffer.byteLength(text)} bytes, more than ${MAX_TABLE_BYTES}`);
}

function withNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/**
 * A table file as one line, joined the way MAIN's \`join\` joins it: leading blanks dropped,
 * empty and comment lines skipped, commands separated by " ; " except after "{" or ";" (nft -i
 * reads one line's commands as one transaction).
 */
export function tableLine(text: string): string {
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^[ \t\n\v\f\r]+/, '');
    if (line === '' || line.startsWith('#')) continue;
    table += table === '' || table.endsWith('{') || table.endsWith(';') ? ` ${line}` : ` ; ${line}`;
  }
  return table;
}

/** A state for the agent: its lines between "BEGIN id" and "END id" (electron/agent.ts reads it so). */
function linesFrame(id: string, text: string): string {
  return `BEGIN ${id}\n${withNewline(text)}END ${id}\n`;
}

/**
 * A table file for a holder: joined into one line (tableLine; MAIN_LOOP joins it to itself),
 * with its size in bytes on the BEGIN line, which MAIN_LOOP does not need and a holder started
 * by the MicroLab before it (a shell loop) takes the line by, with \`head -c\`.
 */
export function tableFrame(id: string, text: string): string {
  const line = `${tableLine(text)}\n`;
  return `BEGIN ${id} ${Buffer.byteLength(line)}\n${line}END ${id}\n`;
}

/** The sidecar's main process (a shell script), for containers that run it after steps of their own. */
export function sidecarMain(): string {
  return MAIN;
}

/** A firewall container of the project: a pod's holder, or a container of an older MicroLab's kind. */
export interface Sidecar {
  id: string;
  name: string;
  /** The app container that joined its namespace ('' while its app is not there yet). */
  target: string;
  /** It owns a pod's namespace (every firewall container MicroLab creates now). */
  holder: boolean;
  workload: string;
  running: boolean;
  startedAt?: string;
}

export async function listSidecars(docker: Docker, project: string): Promise<Sidecar[]> {
  const [list, workloads] = await Promise.all([
    docker.listContainers({
      all: true,
      filters: { label: [`${LABEL.project}=${project}`, `${LABEL.role}=${FIREWALL_ROLE}`] },
    }),
    docker
      .listContainers({
        all: true,
        filters: { label: [`${LABEL.project}=${project}`, `${LABEL.role}=workload`] },
      })
      .then((list) => withNetworkModes(docker, list)),
  ]);
  // A holder's workload is the app that joined its namespace.
  const joined = new Map<string, string>();
  for (const w of workloads) {
    const mode = w.HostConfig?.NetworkMode ?? '';
    if (mode.startsWith('container:')) joined.set(mode.slice('container:'.length), w.Id);
  }
  return list.map((c) => {
    const holder = c.Labels?.[HOLDER_LABEL] !== undefined;
    return {
      id: c.Id,
      name: (c.Names[0] ?? c.Id).replace(/^\//, ''),
      target: holder ? (joined.get(c.Id) ?? '') : '',
      holder,
      workload: c.Labels?.[LABEL.workload] ?? '',
      running: c.State === 'running',
    };
  });
}

/**
 * Reads the main process's answer to a load from one line of its output. The trace monitor
 * writes to the same stdout through a block buffer, so the answer may follow part of a trace
 * line on the same line: it is looked for at the end of the line, not only at its start.
 */
export function parseLoadAck(line: string): { id: string; error?: string } | undefined {
  const m = /microlab-load (\S+) (ok|failed: (.*))$/.exec(line.trim());
  if (!m) return undefined;
  return m[2] === 'ok' ? { id: m[1]! } : { id: m[1]!, error: m[3]!.trim() };
}

/**
 * A line a main process may write before its load answer, carrying a reply to that load (the
 * agent's apply report, as JSON): "microlab-reply id TEXT".
 */
export function parseReply(line: string): { id: string; text: string } | undefined {
  const m = /microlab-reply (\S+) (.*)$/.exec(line.trim());
  return m ? { id: m[1]!, text: m[2]! } : undefined;
}

/** How a waiting caller is answered: the value, or the error. */
interface Answer<T> {
  resolve: (value: T) => void;
  reject: (err: Error) => void;
}

/**
 * A promise answered through `register(answer)` (the caller files it where the reply will
 * find it), or rejected with a TimeoutError naming `what` after `timeoutMs`, when `register()`
 * is called with nothing so the caller drops it.
 */
function timedAnswer<T>(timeoutMs: number, what: string, register: (answer?: Answer<T>) => void): Promise<T> {
  const answered = new Promise<T>((resolve, reject) => register({ resolve, reject }));
  return withTimeout(answered, { what, limitMs: timeoutMs, onTimeout: () => register() });
}

/**
 * An open line to a sidecar's main process (Docker attach): loads tables without starting a
 * process in the container. Kept open between loads; reopened when it closed.
 */
export class SidecarChannel {
  private stream?: Promise<NodeJS.ReadWriteStream>;
  private readonly waiting = new Map<string, Answer<void>>();
  /** Replies written before a load's answer (parseReply), by load id. */
  private readonly replies = new Map<string, string>();
  private readonly listing = new Map<string, Answer<string> & { lines: string[] }>();
  private counter = 0;
  private closed = false;

  constructor(
    private readonly docker: Docker,
    readonly sidecarId: string,
  ) {}

  private open(): Promise<NodeJS.ReadWriteStream> {
    this.stream ??= (async () => {
      const stream = (await this.docker.getContainer(this.sidecarId).attach({
        stream: true,
        stdin: true,
        stdout: true,
        stderr: true,
        hijack: true,
      })) as NodeJS.ReadWriteStream;
      // Podman passes the attach request's JSON body on to the process's input, ahead of the
      // first line written: end that line here, so the first "BEGIN" starts a line of its own
      // (Docker sends nothing; the empty line is dropped when "BEGIN" empties the file).
      stream.write('\n');
      demux(
        stream,
        lines((line) => {
          if (this.listed(line)) return;
          const reply = parseReply(line);
          if (reply) {
            if (this.waiting.has(reply.id)) this.replies.set(reply.id, reply.text);
            return;
          }
          const ack = parseLoadAck(line);
          const waiter = ack ? this.waiting.get(ack.id) : undefined;
          if (!ack || !waiter) return;
          this.waiting.delete(ack.id);
          if (ack.error === undefined) waiter.resolve();
          else waiter.reject(new Error(`nft -f failed: ${ack.error}`));
        }),
      );
      const fail = (err: Error) => {
        this.stream = undefined;
        for (const w of this.waiting.values()) w.reject(err);
        this.waiting.clear();
        for (const l of this.listing.values()) l.reject(err);
        this.listing.clear();
      };
      stream.on('error', fail);
      stream.on('end', () => fail(new Error('the firewall sidecar closed its input')));
      stream.on('close', () => fail(new Error('the firewall sidecar closed its input')));
      return stream;
    })().catch((err: unknown) => {
      this.stream = undefined;
      throw err;
    });
    return this.stream;
  }

  /** Loads a table file into the sidecar's namespace in one transaction. */
  async load(text: string, timeoutMs = 15_000): Promise<void> {
    await this.deliver(text, timeoutMs, 'the firewall sidecar to load the table', tableFrame);
  }

  /**
   * Sends a file as `load` does and resolves with the reply the main process wrote before its
   * answer (parseReply), if it wrote one: the agent's report of the apply a state started.
   */
  async send(
    text: string,
    timeoutMs = 15_000,
    what = 'the firewall sidecar to load the table',
  ): Promise<string | undefined> {
    return this.deliver(text, timeoutMs, what, linesFrame);
  }

  private async deliver(
    text: string,
    timeoutMs: number,
    what: string,
    frame: (id: string, text: string) => string,
  ): Promise<string | undefined> {
    checkSize(text);
    const id = `${process.pid}.${++this.counter}`;
    if (await engineIsPodman(this.docker)) return this.loadByExec(id, text, timeoutMs);
    const stream = await this.open();
    const done = timedAnswer<void>(timeoutMs, what, (answer) =>
      answer ? this.waiting.set(id, answer) : this.waiting.delete(id),
    );
    stream.write(frame(id, text));
    try {
      await done;
      return this.replies.get(id);
    } finally {
      this.replies.delete(id);
    }
  }

  /**
   * Loads a table file (as `load`) and then lists the namespace's connections (as `list`), in
   * one write: one round trip where an apply that cuts would take two. Resolves with the
   * listing taken after the load, or with why there is none (`listError`: the caller may list
   * another way); throws when the load fails.
   */
  async loadThenList(text: string, timeoutMs = 15_000): Promise<{ listing?: string; listError?: Error }> {
    const settled = (listing: Promise<string>) =>
      listing.then(
        (text) => ({ listing: text }),
        (err: unknown) => ({ listError: err instanceof Error ? err : new Error(String(err)) }),
      );
    if (await engineIsPodman(this.docker)) {
      await this.load(text, timeoutMs);
      return settled(this.list(timeoutMs));
    }
    checkSize(text);
    const stream = await this.open();
    const id = `${process.pid}.${++this.counter}`;
    const listId = `${process.pid}.${++this.counter}`;
    const loaded = timedAnswer<void>(timeoutMs, 'the firewall sidecar to load the table', (answer) =>
      answer ? this.waiting.set(id, answer) : this.waiting.delete(id),
    );
    const listed = timedAnswer<string>(timeoutMs, 'the firewall sidecar to list its connections', (answer) =>
      answer ? this.listing.set(listId, { lines: [], ...answer }) : this.listing.delete(listId),
    );
    const result = settled(listed);
    stream.write(`${tableFrame(id, text)}LIST ${listId}\n`);
    await loaded;
    return result;
  }

  /**
   * The namespace's connection tracking table, as `conntrack -L` prints it (one entry per
   * line), listed by the sidecar's main process. Throws when the listing fails or does not
   * come within `timeoutMs` (a sidecar of an older MicroLab does not answer LIST).
   */
  async list(timeoutMs = 5_000): Promise<string> {
    // On Podman the open line is an exec per use (see PODMAN_INPUT): the caller's exec lists.
    if (await engineIsPodman(this.docker)) throw new Error('on Podman a listing goes by exec');
    const stream = await this.open();
    const id = `${process.pid}.${++this.counter}`;
    const done = timedAnswer<string>(timeoutMs, 'the firewall sidecar to list its connections', (answer) =>
      answer ? this.listing.set(id, { lines: [], ...answer }) : this.listing.delete(id),
    );
    stream.write(`LIST ${id}\n`);
    return done;
  }

  /** Takes a line of a listing in progress; false when the line is none. */
  private listed(line: string): boolean {
    const entry = /^microlab-ct (\S+) (.*)$/.exec(line);
    if (entry) {
      this.listing.get(entry[1]!)?.lines.push(entry[2]!);
      return true;
    }
    const end = /^microlab-listed (\S+) (ok|failed: (.*))$/.exec(line.trim());
    if (!end) return false;
    const waiter = this.listing.get(end[1]!);
    if (waiter) {
      this.listing.delete(end[1]!);
      if (end[2] === 'ok') waiter.resolve(waiter.lines.join('\n'));
      else waiter.reject(new Error(`conntrack -L failed: ${end[3]!.trim()}`));
    }
    return true;
  }

  /** Podman: the load goes in by exec, through the container's pipe (see PODMAN_LOAD). */
  private async loadByExec(id: string, text: string, timeoutMs: number): Promise<string | undefined> {
    const { output } = await execIn(this.docker, this.sidecarId, ['sh', '-c', PODMAN_LOAD(id)], {
      input: text,
      timeoutMs,
      what: 'the firewall sidecar to load the table',
    });
    const ack = output
      .split('\n')
      .map(parseLoadAck)
      .find((a) => a?.id === id);
    if (!ack)
      throw new Error(`the firewall sidecar gave no answer to a load: ${output.trim() || 'no output'}`);
    if (ack.error !== undefined) throw new Error(`nft -f failed: ${ack.error}`);
    return output
      .split('\n')
      .map(parseReply)
      .find((r) => r?.id === id)?.text;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.stream
      ?.then((s) => (s as NodeJS.ReadWriteStream & { destroy?: () => void }).destroy?.())
      .catch(() => undefined);
    this.stream = undefined;
  }
}
