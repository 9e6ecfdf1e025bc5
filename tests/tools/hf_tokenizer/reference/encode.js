// Writes tests/golden/fixtures/hf_tokenizer/<name>.json: what Hugging Face tokenizers (the Rust library,
// through its Node binding) makes of the strings of each set built by gen_hf_tokenizer_fixtures.py.
// Not run by `make test`. By hand, with the package installed outside the repository:
//   (cd /tmp/hftok && npm install tokenizers@0.23.2)
//   /usr/bin/python3 tests/tools/hf_tokenizer/gen_hf_tokenizer_fixtures.py --out /tmp/hfgen
//   NODE_PATH=/tmp/hftok/node_modules node tests/tools/hf_tokenizer/reference/encode.js /tmp/hfgen \
//       tests/golden/fixtures/hf_tokenizer ../shared/data/tokenizer-vectors/llama.cpp
// Per string: ids (encode without special tokens), ids_special (with: the post-processor's BOS/CLS...),
// decoded / decoded_skip (decode(ids_special) keeping / skipping special tokens). For the .inp strings
// it also reports where ids differ from llama.cpp's .out line of the same vocabulary.
'use strict';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('tokenizers');
const version = require('tokenizers/package.json').version;

function outLines(file) {
  return fs.readFileSync(file, 'utf8').split('\n').slice(0, -1)
    .map((line) => line.trim() === '' ? [] : line.trim().split(/\s+/).map(Number));
}

async function encodeSet(dir, name, outDir, vectorsDir) {
  const texts = JSON.parse(fs.readFileSync(path.join(dir, name, 'texts.json'), 'utf8'));
  const tokenizer = Tokenizer.fromFile(path.join(dir, name, 'tokenizer.json'));
  const llamaCpp = outLines(path.join(vectorsDir, texts.source.replace(/\.inp$/, '.out')));
  const cases = [];
  const differ = [];
  for (let i = 0; i < texts.texts.length; ++i) {
    const text = texts.texts[i];
    const ids = (await tokenizer.encode(text, null, { addSpecialTokens: false })).getIds();
    const idsSpecial = (await tokenizer.encode(text, null, { addSpecialTokens: true })).getIds();
    cases.push({
      text, ids, ids_special: idsSpecial,
      decoded: await tokenizer.decode(idsSpecial, false),
      decoded_skip: await tokenizer.decode(idsSpecial, true),
    });
    if (i < texts.n_inp && JSON.stringify(ids) !== JSON.stringify(llamaCpp[i])) differ.push(i);
  }
  const document = {
    name, reference: `tokenizers ${version} (npm)`, tokenizer_sha256: texts.tokenizer_sha256,
    source: texts.source, n_inp: texts.n_inp, llama_cpp_differs: differ, cases,
  };
  fs.writeFileSync(path.join(outDir, name + '.json'), JSON.stringify(document, null, 1) + '\n');
  console.log(`${name}: ${cases.length} strings; ids equal llama.cpp .out for ${texts.n_inp - differ.length}/` +
              `${texts.n_inp}` + (differ.length ? ` (differ: ${differ.join(' ')})` : ''));
}

(async () => {
  const [dir, outDir, vectorsDir] = process.argv.slice(2);
  fs.mkdirSync(outDir, { recursive: true });
  const names = fs.readdirSync(dir).filter((n) => fs.existsSync(path.join(dir, n, 'texts.json'))).sort();
  for (const name of names) await encodeSet(dir, name, outDir, vectorsDir);
})().catch((e) => { console.error(e); process.exit(1); });
