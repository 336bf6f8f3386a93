/** Where a command's lines go: `out` for results (stdout), `err` for problems (stderr). */
export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}
