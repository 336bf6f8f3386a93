/** The baseline child: a bare node process that says ready and echoes every IPC message. */
process.on('message', (m) => process.send!(m));
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
