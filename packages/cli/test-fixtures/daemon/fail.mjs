// Daemon command stand-in that always fails, after reading its input.
process.stdin.resume();
process.stdin.on('end', () => {
  process.stderr.write('boom: the model is down\n');
  process.exit(1);
});
