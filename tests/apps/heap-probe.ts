// Test app for the garbage collector's safe points (assembly/heap.ts): state kept across requests must
// survive every collection, garbage made inside one callback must be reclaimed after it, and a timer's
// argument, reachable only through the timer, must survive collections while it waits.
//   /keep     stores an object graph reachable only from a module-level array; answers the count
//   /check    recomputes every stored graph's checksum: "ok <count>" or "corrupt <index>"
//   /churn    makes ~8 MB of short-lived strings and arrays in the handler; answers a digest of them
//   /later    answers from a 20 ms timer whose argument is a freshly built graph
//   /memory   linear memory size in bytes
import * as http from "eventide/http";
import { setTimeout } from "eventide/timers";

class Node {
  constructor(public label: string, public values: Array<i32>, public next: Node | null) {}
}

function graph(seed: i32): Node {
  let head: Node | null = null;
  for (let i = 0; i < 8; i++) {
    const values = new Array<i32>();
    for (let k = 0; k < 16; k++) values.push(seed * 31 + i * 7 + k);
    head = new Node("n" + seed.toString() + "-" + i.toString(), values, head);
  }
  return head!;
}

function checksum(head: Node | null): i64 {
  let sum: i64 = 0;
  while (head != null) {
    for (let k = 0; k < head.values.length; k++) sum = sum * 33 + head.values[k];
    sum += head.label.length;
    head = head.next;
  }
  return sum;
}

const kept = new Array<Node>();
const keptSums = new Array<i64>();

class Later {
  constructor(public res: http.ServerResponse, public node: Node, public sum: i64) {}
}

function answerLater(later: Later): void {
  later.res.end(checksum(later.node) == later.sum ? "ok" : "corrupt");
}

const server = http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  const url = req.url;
  if (url == "/keep") {
    const node = graph(kept.length);
    kept.push(node);
    keptSums.push(checksum(node));
    res.end(kept.length.toString());
  } else if (url == "/check") {
    for (let i = 0; i < kept.length; i++) {
      if (checksum(kept[i]) != keptSums[i]) {
        res.end("corrupt " + i.toString());
        return;
      }
    }
    res.end("ok " + kept.length.toString());
  } else if (url == "/churn") {
    let digest = 0;
    for (let i = 0; i < 20_000; i++) {
      const parts = new Array<string>();
      parts.push("item-" + i.toString());
      parts.push("x".repeat(64));
      digest = (digest * 31 + parts.join(",").length) & 0xffffff;
    }
    res.end(digest.toString());
  } else if (url == "/later") {
    const node = graph(1000 + kept.length);
    setTimeout(answerLater, 20, new Later(res, node, checksum(node)));
  } else if (url == "/memory") {
    res.end((<i64>memory.size() << 16).toString());
  } else {
    res.statusCode = 404;
    res.end("unknown");
  }
});
server.listen(1337, "127.0.0.1");
