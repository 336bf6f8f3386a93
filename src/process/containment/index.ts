/**
 * Process containment: keep every descendant of an agent process inside the attempt (cgroups where the
 * machine allows, the /proc walk otherwise), limit its memory and task count, and leave nothing behind.
 * See docs/containment.md.
 */
export { detect, type DetectOptions } from './detect.js';
export { Containment, type ContainmentOptions } from './containment.js';
export { AgentCell, type CellDirs, type CellKillResult } from './cell.js';
export { descendants, walkTree, taggedPids, runTag, type Found, type WalkOptions } from './proc-walk.js';
export { killTree, type KillTreeOptions, type KillTreeResult } from './kill-tree.js';
export { treeRssBytes, rssBytes, kernelPageSize, type TreeMemory } from './memory.js';
export { reapStale, ownerOf, type ReapResult } from './reap.js';
export * from './types.js';
