import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import fc from 'fast-check';
import { barChart, escapeXml, lineChart, scatterChart, type PointSeries } from '../../src/plot/index.js';

/**
 * A small XML well-formedness checker: one root element, balanced tags,
 * quoted and unique attributes, no raw '<' or stray '&' in text or values,
 * no characters XML 1.0 forbids.
 */
function assertWellFormedXml(xml: string): void {
  assert.doesNotMatch(xml, /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/, 'forbidden character');
  assert.doesNotMatch(xml, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/, 'lone surrogate');
  const entity = /&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/y;
  const checkText = (text: string, at: number) => {
    for (let i = text.indexOf('&'); i >= 0; i = text.indexOf('&', i + 1)) {
      entity.lastIndex = i;
      assert.ok(entity.test(text), `stray '&' near ${at + i}: ${text.slice(i, i + 12)}`);
    }
  };
  const stack: string[] = [];
  let roots = 0;
  let pos = 0;
  const tag = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*"[^"<]*")*)\s*(\/?)>/y;
  while (pos < xml.length) {
    const lt = xml.indexOf('<', pos);
    const text = xml.slice(pos, lt < 0 ? xml.length : lt);
    if (stack.length === 0) assert.match(text, /^\s*$/, `text outside the root at ${pos}`);
    checkText(text, pos);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(xml);
    assert.ok(m, `malformed tag at ${lt}: ${xml.slice(lt, lt + 60)}`);
    const [whole, closing, name, attrs, selfClosing] = m;
    const names = [...attrs.matchAll(/([\w.:-]+)\s*=\s*"([^"]*)"/g)].map((a) => {
      checkText(a[2], lt);
      return a[1];
    });
    assert.equal(new Set(names).size, names.length, `duplicate attribute in ${whole}`);
    if (closing) {
      assert.ok(!selfClosing && names.length === 0, `bad closing tag ${whole}`);
      assert.equal(stack.pop(), name, `mismatched </${name}> at ${lt}`);
    } else if (!selfClosing) {
      if (stack.length === 0) roots++;
      stack.push(name);
    } else if (stack.length === 0) roots++;
    pos = lt + whole.length;
  }
  assert.deepEqual(stack, [], 'unclosed tags');
  assert.equal(roots, 1, 'exactly one root element');
}

/** No NaN, Infinity or undefined may reach a coordinate. */
function assertFiniteGeometry(svg: string): void {
  for (const m of svg.matchAll(/\s(x|y|x1|x2|y1|y2|cx|cy|r|width|height|d|transform|viewBox)="([^"]*)"/g)) {
    assert.doesNotMatch(m[2], /NaN|Infinity|undefined/, `${m[1]}="${m[2]}"`);
  }
}

function check(svg: string): string {
  assertWellFormedXml(svg);
  assertFiniteGeometry(svg);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  return svg;
}

const epochs = (f: (e: number) => number, n = 30): [number, number][] => Array.from({ length: n }, (_, i) => [i + 1, f(i + 1)]);

test('lineChart: title, labels, series names, nice round ticks', () => {
  const svg = check(
    lineChart({
      title: 'Training curves',
      xLabel: 'epoch',
      yLabel: 'top-1 accuracy',
      series: [
        { name: 'cross-entropy', points: epochs((e) => 0.93 - 0.5 * Math.exp(-e / 5)) },
        { name: 'FBL', points: epochs((e) => 0.91 - 0.6 * Math.exp(-e / 6)) },
      ],
    }),
  );
  for (const text of ['Training curves', 'epoch', 'top-1 accuracy', 'cross-entropy', 'FBL']) assert.ok(svg.includes(`>${text}<`), text);
  for (const tick of ['0.4', '0.6', '0.8', '1.0', '10', '20', '30']) assert.ok(svg.includes(`>${tick}</text>`), `tick ${tick}`);
  assert.doesNotMatch(svg, />\d+\.\d*0000\d+</, 'no floating-point noise in labels');
});

test('lineChart breaks the line at NaN instead of bridging it, and skips non-positive values on a log axis', () => {
  const svg = check(
    lineChart({
      title: 'gaps',
      series: [
        {
          name: 's',
          points: [
            [0, 1],
            [1, NaN],
            [2, 3],
            [3, Infinity],
            [4, 2],
          ],
        },
      ],
    }),
  );
  const d = svg.match(/<path d="([^"]+)" fill="none" stroke="#0072B2"/)![1];
  assert.equal(d.match(/M/g)!.length, 3);
  const log = check(
    lineChart({
      title: 'loss',
      logY: true,
      series: [
        {
          name: 'loss',
          points: [
            [0, 2.3],
            [1, 0],
            [2, -1],
            [3, 0.01],
          ],
        },
      ],
    }),
  );
  const dl = log.match(/<path d="([^"]+)" fill="none"/)![1];
  assert.equal(dl.match(/[ML]/g)!.length, 2);
  for (const tick of ['0.01', '0.1', '1']) assert.ok(log.includes(`>${tick}</text>`), `log tick ${tick}`);
});

test('empty, single-point and all-NaN inputs render without throwing', () => {
  for (const series of [
    [],
    [{ name: 'empty', points: [] }],
    [
      {
        name: 'nan',
        points: [
          [NaN, NaN],
          [1, NaN],
        ],
      },
    ],
  ] as PointSeries[][]) {
    const svg = check(lineChart({ title: 'nothing', series }));
    assert.ok(svg.includes('>No data<'));
    check(scatterChart({ title: 'nothing', series, logX: true }));
  }
  const one = check(lineChart({ title: 'one', series: [{ name: 'only', points: [[5, 0.5]] }] }));
  assert.ok(!one.includes('No data'));
  assert.match(one, /<circle /);
  check(scatterChart({ title: 'one', logX: true, logY: true, series: [{ name: 'only', points: [[100, 1]] }] }));
  check(barChart({ title: 'none', categories: [], series: [] }));
  assert.ok(check(barChart({ title: 'nan', categories: ['a'], series: [{ name: 's', values: [NaN] }] })).includes('No data'));
});

test('text is escaped: titles, labels, series and category names', () => {
  const nasty = `<b>&"quotes"'\u0001 ]]> \ud800`;
  const svg = check(
    barChart({
      title: nasty,
      xLabel: nasty,
      yLabel: nasty,
      categories: [nasty, 'T-shirt/top'],
      series: [{ name: nasty, values: [0.5, 0.25] }],
    }),
  );
  assert.ok(svg.includes(escapeXml('<b>&"quotes"\'')));
  assert.ok(!svg.includes('<b>'));
  check(scatterChart({ title: nasty, xLabel: nasty, yLabel: nasty, series: [{ name: nasty, points: [[1, 2]] }] }));
  assert.equal(escapeXml(`a<b>&"c"'`), 'a&lt;b&gt;&amp;&quot;c&quot;&#39;');
});

test('barChart: grouped bars with distinct colours, gaps for NaN, negative values below a zero line', () => {
  const classes = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
  const svg = check(
    barChart({
      title: 'Per-class accuracy',
      xLabel: 'class',
      yLabel: 'accuracy',
      yMin: 0,
      yMax: 1,
      categories: classes,
      series: [
        { name: 'CE', values: classes.map((_, i) => 0.95 - i * 0.07) },
        { name: 'FBL', values: classes.map((_, i) => (i === 3 ? NaN : 0.9 - i * 0.04)) },
      ],
    }),
  );
  const bars = [...svg.matchAll(/<rect x="[^"]+" y="[^"]+" width="[^"]+" height="[^"]+" fill="(#[0-9A-F]+)"><title>/g)];
  assert.equal(bars.length, 19);
  assert.equal(new Set(bars.map((b) => b[1])).size, 2);
  for (const c of classes) assert.ok(svg.includes(`>${c}</text>`), c);
  const delta = check(barChart({ title: 'delta', categories: ['a', 'b'], series: [{ name: 'Δ', values: [-0.2, 0.3] }] }));
  assert.ok(delta.includes('>\u22120.2</text>'), 'negative ticks use a minus sign');
});

test('scatterChart on a log x axis: powers of ten and 2-5 multiples as ticks', () => {
  const sizes = [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50];
  const svg = check(
    scatterChart({
      title: 'Accuracy vs class size',
      xLabel: 'training images',
      yLabel: 'accuracy',
      logX: true,
      series: [
        { name: 'CE', points: sizes.map((n) => [n, Math.log10(n) / 4]) },
        { name: 'FBL', points: sizes.map((n) => [n, Math.log10(n) / 4.5 + 0.1]) },
      ],
    }),
  );
  for (const tick of ['100', '200', '500', '1000', '2000', '5000']) assert.ok(svg.includes(`>${tick}</text>`), tick);
  assert.equal([...svg.matchAll(/<title>CE: /g)].length, 10);
});

const SVG_RUNS = 300;
test(`fuzz: arbitrary series and values never throw and stay well-formed (${SVG_RUNS} runs each)`, () => {
  const value = fc.oneof(fc.double(), fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.constantFrom(0, 1, NaN, Infinity, 1e308, 5e-324));
  const name = fc.string({ unit: 'binary', maxLength: 30 });
  const series = fc.array(fc.record({ name, points: fc.array(fc.tuple(value, value), { maxLength: 12 }) }), { maxLength: 4 });
  const options = fc.record({
    title: name,
    xLabel: name,
    yLabel: name,
    logX: fc.boolean(),
    logY: fc.boolean(),
    yMin: fc.option(value, { nil: undefined }),
    yMax: fc.option(value, { nil: undefined }),
    width: fc.option(value, { nil: undefined }),
  });
  fc.assert(
    fc.property(options, series, (o, s) => void check(lineChart({ ...o, series: s }))),
    { numRuns: SVG_RUNS },
  );
  fc.assert(
    fc.property(options, series, (o, s) => void check(scatterChart({ ...o, series: s }))),
    { numRuns: SVG_RUNS },
  );
  fc.assert(
    fc.property(
      options,
      fc.array(name, { maxLength: 12 }),
      fc.array(fc.record({ name, values: fc.array(value, { maxLength: 14 }) }), { maxLength: 3 }),
      (o, categories, s) => void check(barChart({ ...o, categories, series: s })),
    ),
    { numRuns: SVG_RUNS },
  );
});

const python = ['/usr/bin/python3', 'python3'].find(
  (p) => spawnSync(p, ['-c', 'import xml.dom.minidom'], { stdio: 'ignore' }).status === 0,
);
test('a real XML parser accepts the output', { skip: python ? false : 'no python3 for xml.dom.minidom' }, () => {
  const svgs = [
    lineChart({ title: 'a & b <c>', series: [{ name: '"x"', points: epochs(Math.sqrt) }] }),
    barChart({ title: 't', categories: ['<', '&'], series: [{ name: "'", values: [1, -1] }] }),
    scatterChart({
      title: 't',
      logX: true,
      series: [
        {
          name: 'n',
          points: [
            [10, 1],
            [1000, 2],
          ],
        },
      ],
    }),
  ];
  for (const svg of svgs) {
    const run = spawnSync(python!, ['-c', 'import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.buffer.read())'], {
      input: svg,
    });
    assert.equal(run.status, 0, run.stderr.toString());
  }
});
