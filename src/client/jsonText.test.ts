import { jsonText } from './jsonText';

describe('jsonText', () => {
  const samples = [
    '{"a":1,"b":"plain"}',
    '{"name":"Elif Yılmaz","city":"Zürich","note":"naïve café"}',
    '{"emoji":"team 🚀 rocket","cjk":"管理者","mixed":["é",1,"ß"]}',
    '{"edge":"é"}',
    '["ünïcödé at the start and end ü"]',
    '{"quote":"\\"é\\"","backslash":"\\\\é"}',
  ];

  it.each(samples)('parses to what the UTF-8 text parses to: %s', text => {
    const bytes = Buffer.from(text, 'utf8');
    const ascii = jsonText(bytes);
    expect(/^[\x00-\x7f]*$/.test(ascii)).toBe(true);
    expect(JSON.parse(ascii)).toEqual(JSON.parse(text));
  });

  it('returns ASCII bodies as they are', () => {
    expect(jsonText(Buffer.from('{"a":"b"}'))).toBe('{"a":"b"}');
  });

  it('decodes bytes that are not UTF-8 as toString("utf8") does (U+FFFD)', () => {
    const bytes = Buffer.concat([Buffer.from('{"a":"x'), Buffer.from([0xff, 0xc3]), Buffer.from('y","b":"'), Buffer.from([0xe2, 0x82]), Buffer.from('"}')]);
    expect(JSON.parse(jsonText(bytes))).toEqual(JSON.parse(bytes.toString('utf8')));
  });

  it('agrees with the UTF-8 decoding on random documents and random bytes', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const codePoint = () => {
      const r = random();
      if (r < 0.6) return 0x20 + Math.floor(random() * 0x5f);
      if (r < 0.8) return 0xa0 + Math.floor(random() * 0x700);
      if (r < 0.95) return 0x3000 + Math.floor(random() * 0x5000);
      return 0x1f300 + Math.floor(random() * 0x300);
    };
    for (let n = 0; n < 200; n++) {
      const values = Array.from({ length: 5 }, () => String.fromCodePoint(...Array.from({ length: 20 }, codePoint)));
      const bytes = Buffer.from(JSON.stringify({ values }), 'utf8');
      expect(JSON.parse(jsonText(bytes))).toEqual({ values });
      const noise = Buffer.from(Array.from({ length: 30 }, () => Math.floor(random() * 256)));
      const wrapped = Buffer.concat([Buffer.from('"'), Buffer.from(noise.filter(b => b !== 0x22 && b !== 0x5c && b >= 0x20)), Buffer.from('"')]);
      expect(JSON.parse(jsonText(wrapped))).toEqual(JSON.parse(wrapped.toString('utf8')));
    }
  });
});
