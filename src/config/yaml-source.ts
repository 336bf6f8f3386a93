/** A parsed YAML file with positions: the shape yaml-file.ts makes and the problem collectors read. */

/** 1-based position in the file. */
export interface Pos {
  line: number;
  col: number;
}

export interface YamlSource {
  file: string;
  data: unknown;
  /** Position of the node at `path` (or of its nearest ancestor that has one). */
  posOf(path: ReadonlyArray<PropertyKey>): Pos | undefined;
  /** Position of the key `key` of the map at `path` (for unknown keys), else of the map. */
  keyPosOf(path: ReadonlyArray<PropertyKey>, key: string): Pos | undefined;
  /** 1-based line of the node at `path` (posOf(path).line). */
  lineOf(path: ReadonlyArray<PropertyKey>): number | undefined;
}

