/** The leaf kernel API: the process state machine, the syscall argument table and the error family's wire mapping. */
import { describe, expect, it } from 'vitest';
import { AgentOSError, ERROR_CODES, fromWireError, InputError, toWireError } from '../../src/errors.js';
import { canTransition, isLive, newAcb, transition, type ProcState } from '../../src/kernel-api/acb.js';
import { parseSyscallArgs, SYSCALL_ARGS } from '../../src/kernel-api/syscall-args.js';
import { SYSCALL_OPS } from '../../src/kernel-api/syscall-ops.js';
import { SyscallTable } from '../../src/kernel-api/syscalls.js';

const STATES: ProcState[] = ['starting', 'idle', 'busy', 'stopping', 'exited', 'crashed'];

describe('process state machine', () => {
  it('allows exactly the documented moves and rejects the rest with E_INTERNAL', () => {
    const legal = new Set(['starting>idle', 'starting>stopping', 'starting>exited', 'starting>crashed', 'idle>busy', 'idle>stopping', 'idle>exited', 'idle>crashed', 'busy>idle', 'busy>stopping', 'busy>exited', 'busy>crashed', 'stopping>exited', 'stopping>crashed']);
    for (const from of STATES) {
      for (const to of STATES) {
        const acb = { ...newAcb('a', 1, 42, 0, 64), state: from };
        expect(canTransition(from, to)).toBe(legal.has(`${from}>${to}`));
        if (legal.has(`${from}>${to}`)) {
          transition(acb, to);
          expect(acb.state).toBe(to);
        } else expect(() => transition(acb, to)).toThrow(expect.objectContaining({ code: 'E_INTERNAL' }));
      }
    }
    expect(STATES.filter((s) => isLive({ state: s }))).toEqual(['starting', 'idle', 'busy', 'stopping']);
  });
});

describe('syscall table', () => {
  it('has an argument schema for every op, and parses before the handler runs', async () => {
    expect(Object.keys(SYSCALL_ARGS).sort()).toEqual(Object.keys(SYSCALL_OPS).sort());
    expect(() => parseSyscallArgs('bus.send', { to: 'x', payload: 1, extra: true })).toThrow(expect.objectContaining({ code: 'E_SCHEMA', name: 'SyscallError' }));
    const t = new SyscallTable();
    t.register('task.cancel', (_c, a) => a.tasks.length);
    const caller = { acb: newAcb('a', 1, 1, 0, 64), taskId: 't', attempt: 1 };
    await expect(t.invoke('task.cancel', caller, { tasks: ['x', 'y'] })).resolves.toBe(2);
    await expect(t.invoke('task.cancel', caller, { tasks: [] })).rejects.toMatchObject({ code: 'E_SCHEMA' });
    await expect(t.invoke('no.such', caller, {})).rejects.toMatchObject({ code: 'E_UNKNOWN_SYSCALL' });
    expect(() => t.register('task.cancel', () => 0)).toThrow(expect.objectContaining({ code: 'E_INTERNAL' }));
  });
});

describe('error family', () => {
  it('every error carries a listed code and survives the wire as {name, message, stack, code}', () => {
    const e = new InputError('E_CYCLE', 'a -> b -> a');
    expect(e).toBeInstanceOf(AgentOSError);
    const w = toWireError(e);
    expect(Object.keys(w).sort()).toEqual(['code', 'message', 'name', 'stack']);
    const back = fromWireError(w);
    expect(back).toMatchObject({ code: 'E_CYCLE', name: 'InputError', message: 'a -> b -> a' });
    expect(ERROR_CODES).toContain(back.code);
    // A code a child made up is not trusted: E_INTERNAL, with the foreign code kept in the message.
    expect(fromWireError({ name: 'Error', message: 'x', code: 'E_MADE_UP' })).toMatchObject({ code: 'E_INTERNAL', message: 'x (code E_MADE_UP)' });
  });
});
