// Reads a JSON list of texts on stdin; prints the emergency number the web chat reads in each.
import { emergencyNumberFrom } from "../../frontend/chat/logic.js";

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const texts = JSON.parse(input);
  process.stdout.write(JSON.stringify(texts.map((text) => emergencyNumberFrom(text))));
});
