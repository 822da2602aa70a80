// Entry point of bin/berthd.
import { main } from "./main.ts";

await main(process.argv.slice(2));
