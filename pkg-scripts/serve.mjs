// A static file server for dist/ on 127.0.0.1, cross-origin isolated (the page then runs the
// threaded CPU module). Usage: node pkg-scripts/serve.mjs DIR PORT
import http from 'node:http';
import { ISOLATION, sendFile } from './static.mjs';

const root = process.argv[2] || 'dist';
const port = Number(process.argv[3] || 8080);

http
  .createServer((req, res) => {
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    sendFile(res, root, pathname, ISOLATION);
  })
  .listen(port, '127.0.0.1', () => console.log(`LesionLab: http://127.0.0.1:${port}/`));
