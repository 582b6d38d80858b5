// Encodes texts with the gpt-3-encoder package's own JS encoder (the reference asaflow's
// C++ BPE must match id for id).
// usage: node gpt2_reference.js PACKAGE_DIR INPUT.json OUTPUT.json
//   INPUT: JSON array of strings; OUTPUT: JSON array of {text, ids}.
const fs = require('fs');
const path = require('path');
const [pkg, input, output] = process.argv.slice(2);
const { encode } = require(path.resolve(pkg, 'Encoder.js'));
const texts = JSON.parse(fs.readFileSync(input, 'utf8'));
fs.writeFileSync(output, JSON.stringify(texts.map(text => ({ text, ids: encode(text) }))));
