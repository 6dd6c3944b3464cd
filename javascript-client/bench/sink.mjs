// A store that keeps nothing, for benchmarks/client_cpu.py: it reads each PUT's body to the end
// and answers 200 with an ETag. It prints its port once it listens, and on SIGTERM the CPU
// seconds it spent, each as one JSON line on stdout.
import { createServer } from 'node:http';

const server = createServer((request, response) => {
  request.on('data', () => {});
  request.on('end', () => response.writeHead(200, { ETag: '"sink"' }).end());
});

function stop() {
  const cpu = process.cpuUsage();
  console.log(JSON.stringify({ cpuSeconds: (cpu.user + cpu.system) / 1e6 }));
  process.exit(0);
}

server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', stop);
