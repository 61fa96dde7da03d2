/**
 * Pillow's width-1 elliptical arc (`ImageDraw.arc`, Pillow >= 8, libImaging/Draw.c): a Bresenham
 * walker on a doubled integer grid yields horizontal spans of the ellipse outline, and a small
 * tree of half-planes built from the start and end angles clips them. Ported function by function
 * (quarter_*, ellipse_*, clip_tree_*, arc_init, normalize_angles) because canvas arcs are
 * antialiased and cover other pixels.
 */

/** Receives each clipped span: fill pixels `x0..x1` (inclusive, unclipped) of row `y`. */
export type HLine = (x0: number, y: number, x1: number) => void;

class Quarter {
  finished = false;
  a = 0;
  b = 0;
  cx = 0;
  cy = 0;
  ex = 0;
  ey = 0;
  a2 = 0;
  b2 = 0;
  a2b2 = 0;

  constructor(a: number, b: number) {
    if (a < 0 || b < 0) {
      this.finished = true;
      return;
    }
    this.a = a;
    this.b = b;
    this.cx = a;
    this.cy = b % 2;
    this.ex = a % 2;
    this.ey = b;
    this.a2 = a * a;
    this.b2 = b * b;
    this.a2b2 = this.a2 * this.b2;
  }

  private delta(x: number, y: number): number {
    return Math.abs(this.a2 * y * y + this.b2 * x * x - this.a2b2);
  }

  /** Next point, or null when done (C: returns -1). */
  next(out: { x: number; y: number }): boolean {
    if (this.finished) return false;
    out.x = this.cx;
    out.y = this.cy;
    if (this.cx === this.ex && this.cy === this.ey) {
      this.finished = true;
    } else {
      let nx = this.cx;
      let ny = this.cy + 2;
      let ndelta = this.delta(nx, ny);
      if (nx > 1) {
        let newdelta = this.delta(this.cx - 2, this.cy + 2);
        if (ndelta > newdelta) {
          nx = this.cx - 2;
          ny = this.cy + 2;
          ndelta = newdelta;
        }
        newdelta = this.delta(this.cx - 2, this.cy);
        if (ndelta > newdelta) {
          nx = this.cx - 2;
          ny = this.cy;
        }
      }
      this.cx = nx;
      this.cy = ny;
    }
    return true;
  }
}

class EllipseWalker {
  private stO: Quarter;
  private stI!: Quarter;
  private py = 0;
  private pl = 0;
  private pr = 0;
  private readonly cy = [0, 0, 0, 0];
  private readonly cl = [0, 0, 0, 0];
  private readonly cr = [0, 0, 0, 0];
  private bufcnt = 0;
  private finished = false;
  private readonly leftmost: number;
  private readonly p = { x: 0, y: 0 };

  constructor(a: number, b: number, w: number) {
    this.leftmost = a % 2;
    this.stO = new Quarter(a, b);
    if (w < 1 || !this.stO.next(this.p)) {
      this.finished = true;
    } else {
      this.pr = this.p.x;
      this.py = this.p.y;
      this.stI = new Quarter(a - 2 * (w - 1), b - 2 * (w - 1));
      this.pl = this.leftmost;
    }
  }

  next(out: { x0: number; y: number; x1: number }): boolean {
    if (this.bufcnt === 0) {
      if (this.finished) return false;
      const y = this.py;
      let l = this.pl;
      const r = this.pr;
      const p = this.p;
      let more: boolean;
      while ((more = this.stO.next(p)) && p.y <= y) {
        /* skip points on the current row */
      }
      if (!more) {
        this.finished = true;
      } else {
        this.pr = p.x;
        this.py = p.y;
      }
      while ((more = this.stI.next(p)) && p.y <= y) {
        l = p.x;
      }
      this.pl = more ? p.x : this.leftmost;

      if ((l > 0 || l < r) && y > 0) {
        this.push(l === 0 ? 2 : l, y, r);
      }
      if (y > 0) {
        this.push(-r, y, -l);
      }
      if (l > 0 || l < r) {
        this.push(l === 0 ? 2 : l, -y, r);
      }
      this.push(-r, -y, -l);
    }
    --this.bufcnt;
    out.x0 = this.cl[this.bufcnt];
    out.y = this.cy[this.bufcnt];
    out.x1 = this.cr[this.bufcnt];
    return true;
  }

  private push(x0: number, y: number, x1: number): void {
    this.cl[this.bufcnt] = x0;
    this.cy[this.bufcnt] = y;
    this.cr[this.bufcnt] = x1;
    ++this.bufcnt;
  }
}

type ClipNode =
  | { type: 'clip'; a: number; b: number; c: number }
  | { type: 'and' | 'or'; l: ClipNode; r: ClipNode };

interface ClipEvent {
  x: number;
  type: 1 | -1;
}

/** C lround: halves away from zero. */
function lround(v: number): number {
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

function transposeTree(node: ClipNode | null): void {
  if (node === null) return;
  if (node.type === 'clip') {
    const t = node.a;
    node.a = node.b;
    node.b = t;
  } else {
    transposeTree(node.l);
    transposeTree(node.r);
  }
}

function doClip(node: ClipNode | null, x0: number, y: number, x1: number): ClipEvent[] {
  if (node === null) return [{ x: x0, type: 1 }, { x: x1, type: -1 }];
  if (node.type === 'clip') {
    const eps = 1e-9;
    const { a: A, b: B, c: C } = node;
    if (Math.abs(A) < eps) {
      if (B * y + C < -eps) {
        x0 = 1;
        x1 = 0;
      }
    } else {
      const ix = -(B * y + C) / A;
      if (A * x0 + B * y + C < eps) x0 = lround(Math.max(x0, ix));
      if (A * x1 + B * y + C < eps) x1 = lround(Math.min(x1, ix));
    }
    return x0 <= x1 ? [{ x: x0, type: 1 }, { x: x1, type: -1 }] : [];
  }
  const l1 = doClip(node.l, x0, y, x1);
  const l2 = doClip(node.r, x0, y, x1);
  const out: ClipEvent[] = [];
  let i1 = 0;
  let i2 = 0;
  let k1 = 0;
  let k2 = 0;
  let tail: ClipEvent | null = null;
  while (i1 < l1.length || i2 < l2.length) {
    let t: ClipEvent;
    const e1 = l1[i1];
    const e2 = l2[i2];
    if (e2 === undefined || (e1 !== undefined && (e1.x < e2.x || (e1.x === e2.x && e1.type > e2.type)))) {
      t = e1;
      k1 += t.type;
      i1++;
    } else {
      t = e2;
      k2 += t.type;
      i2++;
    }
    const keep =
      node.type === 'or'
        ? (t.type === 1 && (tail === null || tail.type === -1)) || (t.type === -1 && k1 === 0 && k2 === 0)
        : (t.type === 1 && (tail === null || tail.type === -1) && k1 > 0 && k2 > 0) ||
          (t.type === -1 && tail !== null && tail.type === 1 && (k1 === 0 || k2 === 0));
    if (keep) {
      out.push(t);
      tail = t;
    }
  }
  return out;
}

/** C `normalize_angles` on float32: 0 <= al < 360, al <= ar <= al + 360. */
function normalizeAngles(al: number, ar: number): [number, number] {
  const f = Math.fround;
  al = f(al);
  ar = f(ar);
  if (f(ar - al) >= 360) return [0, 360];
  const nal = f((al < 0 ? 360 - (-al % 360) : al) % 360);
  const nar = f(nal + ((ar < nal ? 360 - (f(nal - ar) % 360) : f(ar - nal)) % 360));
  return [nal, nar];
}

/** The clipping tree of `arc_init` for a >= b (the caller transposes for a < b). */
function arcTree(a: number, b: number, al: number, ar: number): ClipNode | null {
  [al, ar] = normalizeAngles(al, ar);
  if (ar === al + 360) return null;
  const lc: ClipNode = {
    type: 'clip',
    a: -a * Math.sin((al * Math.PI) / 180.0),
    b: b * Math.cos((al * Math.PI) / 180.0),
    c: ((a * a - b * b) * Math.sin((al * Math.PI) / 90.0)) / 2.0,
  };
  const rc: ClipNode = {
    type: 'clip',
    a: a * Math.sin((ar * Math.PI) / 180.0),
    b: -b * Math.cos((ar * Math.PI) / 180.0),
    c: ((b * b - a * a) * Math.sin((ar * Math.PI) / 90.0)) / 2.0,
  };
  if (al % 180 === 0 || ar % 180 === 0) {
    return { type: ar - al < 180 ? 'and' : 'or', l: lc, r: rc };
  }
  if ((Math.trunc(al / 180) + Math.trunc(ar / 180)) % 2 === 1) {
    return {
      type: 'or',
      l: { type: 'and', l: { type: 'clip', a: 0, b: Math.trunc(al / 180) % 2 === 0 ? 1 : -1, c: 0 }, r: lc },
      r: { type: 'and', l: { type: 'clip', a: 0, b: Math.trunc(ar / 180) % 2 === 0 ? 1 : -1, c: 0 }, r: rc },
    };
  }
  const t = ar - al < 180 ? 'and' : 'or';
  return {
    type: t,
    l: { type: t, l: lc, r: rc },
    r: { type: 'clip', a: 0, b: ar < 180 || ar > 540 ? 1 : -1, c: 0 },
  };
}

/**
 * Pillow `ImageDraw.arc([x0, y0, x1, y1], start, end, width=1)`: calls `hline` for each span,
 * in Pillow's order. Angles in degrees, clockwise from 3 o'clock (y points down).
 */
export function arcSpans(x0: number, y0: number, x1: number, y1: number, start: number, end: number, hline: HLine): void {
  [start, end] = normalizeAngles(start, end);
  const a = x1 - x0;
  const b = y1 - y0;
  if (a < 0 || b < 0) return;
  if (start === end) return;
  let root: ClipNode | null;
  if (start + 360 === end) {
    root = null; // a full ellipse: no clipping
  } else if (a < b) {
    root = arcTree(b, a, Math.fround(90 - end), Math.fround(90 - start));
    transposeTree(root);
  } else {
    root = arcTree(a, b, start, end);
  }
  const walker = new EllipseWalker(a, b, 1);
  const seg = { x0: 0, y: 0, x1: 0 };
  while (walker.next(seg)) {
    const events = doClip(root, seg.x0, seg.y, seg.x1);
    for (let i = 0; i + 1 < events.length; i += 2) {
      hline(x0 + Math.trunc((events[i].x + a) / 2), y0 + Math.trunc((seg.y + b) / 2), x0 + Math.trunc((events[i + 1].x + a) / 2));
    }
  }
}
