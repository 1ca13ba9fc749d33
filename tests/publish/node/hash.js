// Print the CIDv1 (raw leaves) ipfs-only-hash gives for each file named on the command line.
// CHUNK and MAX_LINKS in the environment shrink the DAG parameters to test deep trees cheaply.
const fs = require('fs')
const Hash = require('ipfs-only-hash')

async function main () {
  const options = { cidVersion: 1, rawLeaves: true }
  if (process.env.CHUNK) options.maxChunkSize = Number(process.env.CHUNK)
  if (process.env.MAX_LINKS) options.maxChildrenPerNode = Number(process.env.MAX_LINKS)
  for (const file of process.argv.slice(2)) {
    console.log(await Hash.of(fs.readFileSync(file), { ...options }))
  }
}
main().catch(err => { console.error(err); process.exit(1) })
