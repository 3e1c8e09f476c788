/* report.js: the behaviour of `automlgen report` pages (compiled into the
 * binary; see core/report.c).  The graph, chart and table are static
 * markup; this script selects nodes, rebuilds each node's code from the
 * edit scripts in #report-data, shows code, diff and output, and sorts,
 * filters and zooms.  Everything from the run goes in as text
 * (textContent), never as markup. */
(function () {
	'use strict';
	var data = JSON.parse(document.getElementById('report-data').textContent);
	var byId = new Map();
	data.nodes.forEach(function (n) { byId.set(n.id, n); });

	var graph = document.getElementById('graph');
	var gscroll = document.getElementById('graph-scroll');
	var table = document.getElementById('nodes');
	var tbody = table.tBodies[0];
	var twrap = table.parentNode;
	var title = document.getElementById('detail-title');
	var body = document.getElementById('detail-body');
	var gNodes = new Map(), rows = new Map(), pts = new Map();
	graph.querySelectorAll('g.node').forEach(function (g) { gNodes.set(Number(g.dataset.id), g); });
	Array.prototype.forEach.call(tbody.rows, function (r) { rows.set(Number(r.dataset.id), r); });
	document.querySelectorAll('#scores .pt').forEach(function (p) { pts.set(Number(p.dataset.id), p); });

	function el(tag, cls, text) {
		var e = document.createElement(tag);
		if (cls) e.className = cls;
		if (text !== undefined && text !== null) e.textContent = String(text);
		return e;
	}
	function fmt(x) { return typeof x === 'number' ? String(Number(x.toPrecision(6))) : ''; }
	function nodeLink(id) {
		var a = el('a', 'nlink', 'node ' + id);
		a.href = '#node-' + id;
		a.dataset.id = String(id);
		return a;
	}

	/* ---- code: full text for roots, edit scripts against the parent ---- */
	var linesCache = new Map();
	function applyDiff(base, d) {
		var out = [], pos = 0, i, k, op;
		for (i = 0; i < d.length; i++) {
			op = d[i];
			if (Array.isArray(op)) {
				for (k = 0; k < op.length; k++) out.push(op[k]);
			} else if (op > 0) {
				for (k = 0; k < op; k++) out.push(base[pos + k]);
				pos += op;
			} else {
				pos -= op;
			}
		}
		return out;
	}
	function codeLines(id) {
		var chain = [], cur = id, guard = 0, i, n, base;
		while (!linesCache.has(cur)) {
			n = byId.get(cur);
			if (!n || !n.code || guard++ > data.nodes.length) { linesCache.set(cur, null); break; }
			chain.push(cur);
			if (n.code.f !== undefined) break;
			cur = n.code.base;
		}
		for (i = chain.length - 1; i >= 0; i--) {
			n = byId.get(chain[i]);
			if (n.code.f !== undefined) {
				linesCache.set(chain[i], n.code.f.split('\n'));
			} else {
				base = linesCache.get(n.code.base);
				linesCache.set(chain[i], base ? applyDiff(base, n.code.d) : null);
			}
		}
		return linesCache.get(id);
	}
	function diffCounts(d) {
		var add = 0, del = 0;
		d.forEach(function (op) {
			if (Array.isArray(op)) add += op.length;
			else if (op < 0) del -= op;
		});
		return { add: add, del: del };
	}

	function lineRow(cls, no, text) {
		var r = el('div', 'ln ' + cls);
		r.appendChild(el('span', 'no', no));
		r.appendChild(el('span', 'tx', text));
		return r;
	}
	function renderCode(box, lines) {
		var wrap = el('div', 'lines'), frag = document.createDocumentFragment();
		lines.forEach(function (s, i) { frag.appendChild(lineRow('ctx', i + 1, s)); });
		wrap.appendChild(frag);
		box.appendChild(wrap);
	}
	var CTX = 3;
	function renderDiff(box, n) {
		var base = codeLines(n.code.base), d = n.code.d, list = [], a = 0, b = 0;
		if (!base) {
			box.appendChild(el('p', 'note', 'The parent\'s code cannot be rebuilt: no diff.'));
			return;
		}
		d.forEach(function (op) {
			var k;
			if (Array.isArray(op)) {
				for (k = 0; k < op.length; k++) list.push({ t: 'add', no: ++b, s: op[k] });
			} else if (op > 0) {
				for (k = 0; k < op; k++) { a++; list.push({ t: 'ctx', no: ++b, s: base[a - 1] }); }
			} else {
				for (k = 0; k < -op; k++) { list.push({ t: 'del', no: ++a, s: base[a - 1] }); }
			}
		});
		var wrap = el('div', 'lines'), i = 0, changed = list.some(function (x) { return x.t !== 'ctx'; });
		if (!changed) {
			box.appendChild(el('p', 'dim', 'Same code as its parent.'));
			return;
		}
		while (i < list.length) {
			if (list[i].t !== 'ctx') {
				wrap.appendChild(lineRow(list[i].t, list[i].no, list[i].s));
				i++;
				continue;
			}
			var j = i;
			while (j < list.length && list[j].t === 'ctx') j++;
			var head = i === 0 ? 0 : CTX, tail = j === list.length ? 0 : CTX;
			if (j - i <= head + tail + 1) {
				for (; i < j; i++) wrap.appendChild(lineRow('ctx', list[i].no, list[i].s));
				continue;
			}
			for (var k = i; k < i + head; k++) wrap.appendChild(lineRow('ctx', list[k].no, list[k].s));
			var hidden = list.slice(i + head, j - tail);
			var gap = lineRow('gap', '\u22EF', hidden.length + ' unchanged lines (click to show)');
			gap.addEventListener('click', (function (g, h) {
				return function () {
					var f = document.createDocumentFragment();
					h.forEach(function (x) { f.appendChild(lineRow('ctx', x.no, x.s)); });
					g.replaceWith(f);
				};
			})(gap, hidden));
			wrap.appendChild(gap);
			for (k = j - tail; k < j; k++) wrap.appendChild(lineRow('ctx', list[k].no, list[k].s));
			i = j;
		}
		box.appendChild(wrap);
	}
	function renderOutput(box, n) {
		if (n.out) { box.appendChild(el('h3', null, 'stdout (end)')); box.appendChild(el('pre', 'out', n.out)); }
		if (n.err) { box.appendChild(el('h3', null, 'stderr (end)')); box.appendChild(el('pre', 'out', n.err)); }
		if (!n.out && !n.err) box.appendChild(el('p', 'dim', 'No output recorded.'));
	}

	/* ---- the detail panel ---- */
	function addFact(dl, label, value) {
		if (value === undefined || value === null || value === '') return;
		dl.appendChild(el('dt', null, label));
		var dd = el('dd');
		if (value instanceof Node) dd.appendChild(value); else dd.textContent = String(value);
		dl.appendChild(dd);
	}
	function detail(n) {
		var dl = el('dl'), f, st = n.status + (n.outcome && n.outcome !== 'ok' && n.outcome !== 'not_run' ? ' (' + n.outcome + ')' : '');
		body.replaceChildren();
		title.textContent = 'Node ' + n.id + (n.id === data.best ? ' (best)' : '');
		addFact(dl, 'operator', n.op + (n.mode ? ' (' + n.mode + ')' : ''));
		addFact(dl, 'parent', n.parent >= 0 ? nodeLink(n.parent) : 'none (a first draft)');
		if (n.refs && n.refs.length) {
			f = document.createDocumentFragment();
			n.refs.forEach(function (r, i) {
				if (i) f.appendChild(document.createTextNode(', '));
				f.appendChild(nodeLink(r[0]));
				f.appendChild(document.createTextNode(' (' + r[1] + ')'));
			});
			addFact(dl, 'references', f);
		}
		addFact(dl, 'status', st);
		addFact(dl, 'score', fmt(n.score));
		addFact(dl, 'reason', n.reason);
		addFact(dl, 'review', n.review);
		addFact(dl, 'flags', n.flags);
		if (n.cached_from !== undefined) addFact(dl, 'cached from', nodeLink(n.cached_from));
		var t = [];
		if (n.created !== undefined) t.push('started ' + n.created.toFixed(1) + ' s');
		if (n.opsec !== undefined) t.push('operator ' + n.opsec.toFixed(2) + ' s');
		if (n.exec !== undefined) t.push('execution ' + n.exec.toFixed(2) + ' s');
		addFact(dl, 'time', t.join(', '));
		if (n.tin || n.tout) addFact(dl, 'tokens', (n.tin || 0) + ' in / ' + (n.tout || 0) + ' out');
		if (n.nofiles) addFact(dl, 'files', 'no node.json in nodes/: shown from summary.json');
		body.appendChild(dl);
		if (n.plan) { body.appendChild(el('h3', null, 'plan')); body.appendChild(el('div', 'plan', n.plan)); }

		var tabs = [], bar = el('div', 'tabs'), box = el('div', 'tabbox');
		if (n.code && n.code.d) {
			var c = diffCounts(n.code.d);
			tabs.push({ name: 'diff', label: 'Diff to node ' + n.code.base + ' (+' + c.add + ' \u2212' + c.del + ')',
				draw: function () { renderDiff(box, n); } });
		}
		if (n.code) {
			tabs.push({ name: 'code', label: 'Code', draw: function () {
				if (!n.code.d) box.appendChild(el('p', 'dim', n.parent < 0
					? 'A first draft: no parent to diff against.'
					: 'The parent\'s code is missing: no diff.'));
				var lines = codeLines(n.id);
				if (lines) renderCode(box, lines);
				else box.appendChild(el('p', 'note', 'This code cannot be rebuilt.'));
			} });
		} else {
			body.appendChild(el('p', 'note', 'No solution.py for this node.'));
		}
		tabs.push({ name: 'output', label: 'Output', draw: function () { renderOutput(box, n); } });
		function open(tab) {
			bar.querySelectorAll('button').forEach(function (b) { b.classList.toggle('on', b.dataset.tab === tab.name); });
			box.replaceChildren();
			tab.draw();
		}
		tabs.forEach(function (tab) {
			var b = el('button', null, tab.label);
			b.type = 'button';
			b.dataset.tab = tab.name;
			b.addEventListener('click', function () { open(tab); });
			bar.appendChild(b);
		});
		body.appendChild(bar);
		body.appendChild(box);
		open(tabs[0]);
	}

	/* ---- selection ---- */
	var selected = null;
	function centerIn(container, elem, horizontal) {
		if (!container || !elem) return;
		var rc = elem.getBoundingClientRect(), rs = container.getBoundingClientRect();
		container.scrollTop += (rc.top + rc.height / 2) - (rs.top + rs.height / 2);
		if (horizontal) container.scrollLeft += (rc.left + rc.width / 2) - (rs.left + rs.width / 2);
	}
	function showNode(id, opts) {
		var n = byId.get(id);
		if (!n) return;
		[gNodes, rows, pts].forEach(function (m) {
			if (selected !== null && m.get(selected)) m.get(selected).classList.remove('sel');
			if (m.get(id)) m.get(id).classList.add('sel');
		});
		selected = id;
		/* this node's reference edges stand out */
		graph.querySelectorAll('path.ref.hl').forEach(function (e) { e.classList.remove('hl'); });
		graph.querySelectorAll('path.ref[data-to="' + id + '"], path.ref[data-from="' + id + '"]')
			.forEach(function (e) { e.classList.add('hl'); });
		detail(n);
		opts = opts || {};
		if (opts.graph) centerIn(gscroll, gNodes.get(id), true);
		if (opts.table && rows.get(id) && !rows.get(id).hidden) centerIn(twrap, rows.get(id), false);
	}

	graph.addEventListener('click', function (e) {
		var g = e.target.closest('g.node');
		if (g) showNode(Number(g.dataset.id), { table: true });
	});
	tbody.addEventListener('click', function (e) {
		var tr = e.target.closest('tr');
		if (tr) showNode(Number(tr.dataset.id), { graph: true });
	});
	var chart = document.getElementById('scores');
	if (chart) chart.addEventListener('click', function (e) {
		var p = e.target.closest('.pt');
		if (p) showNode(Number(p.dataset.id), { graph: true, table: true });
	});
	document.addEventListener('click', function (e) {
		var a = e.target.closest('a.nlink');
		if (!a) return;
		e.preventDefault();
		showNode(Number(a.dataset.id), { graph: true, table: true });
	});
	window.addEventListener('hashchange', function () {
		var m = /^#node-(\d+)$/.exec(location.hash);
		if (m && Number(m[1]) !== selected) showNode(Number(m[1]), { graph: true, table: true });
	});

	/* ---- zoom ---- */
	var W = Number(graph.dataset.w), H = Number(graph.dataset.h), zoom = 1;
	function setZoom(z) {
		zoom = Math.max(0.05, Math.min(4, z));
		graph.setAttribute('width', String(Math.round(W * zoom)));
		graph.setAttribute('height', String(Math.round(H * zoom)));
	}
	document.getElementById('zoom-in').addEventListener('click', function () { setZoom(zoom * 1.25); });
	document.getElementById('zoom-out').addEventListener('click', function () { setZoom(zoom / 1.25); });
	document.getElementById('zoom-1').addEventListener('click', function () { setZoom(1); });
	document.getElementById('zoom-fit').addEventListener('click', function () {
		setZoom(Math.min(1, (gscroll.clientWidth - 4) / W, (gscroll.clientHeight - 4) / H));
	});
	/* a small graph grows to the width it has */
	if (W > 0 && W * 1.2 < gscroll.clientWidth) setZoom(Math.min(2, (gscroll.clientWidth - 4) / W));
	document.getElementById('show-refs').addEventListener('change', function (e) {
		graph.classList.toggle('norefs', !e.target.checked);
	});

	/* ---- table: sort and filter ---- */
	var ths = table.tHead.rows[0].cells;
	Array.prototype.forEach.call(ths, function (th, col) {
		th.addEventListener('click', function () {
			var asc = !th.classList.contains('asc'), dir = asc ? 1 : -1, num = th.dataset.type === 'num';
			Array.prototype.forEach.call(ths, function (t) { t.classList.remove('asc', 'desc'); });
			th.classList.add(asc ? 'asc' : 'desc');
			var list = Array.prototype.slice.call(tbody.rows);
			list.sort(function (ra, rb) {
				var ca = ra.cells[col], cb = rb.cells[col];
				if (!num) return dir * ca.textContent.localeCompare(cb.textContent);
				var x = ca.dataset.v === '' ? NaN : Number(ca.dataset.v);
				var y = cb.dataset.v === '' ? NaN : Number(cb.dataset.v);
				if (isNaN(x) || isNaN(y)) return isNaN(x) - isNaN(y);
				return dir * (x - y);
			});
			var frag = document.createDocumentFragment();
			list.forEach(function (r) { frag.appendChild(r); });
			tbody.appendChild(frag);
		});
	});
	var filter = document.getElementById('filter'), shown = document.getElementById('shown');
	function applyFilter() {
		var q = filter.value.trim().toLowerCase(), k = 0;
		rows.forEach(function (r, id) {
			var ok = !q || r.textContent.toLowerCase().indexOf(q) >= 0;
			r.hidden = !ok;
			if (gNodes.get(id)) gNodes.get(id).classList.toggle('dim', !ok);
			if (ok) k++;
		});
		shown.textContent = k + ' of ' + rows.size + ' rows';
	}
	filter.addEventListener('input', applyFilter);
	applyFilter();

	/* ---- first view: the node in the address, else the best, else the first ---- */
	var m0 = /^#node-(\d+)$/.exec(location.hash), first = null;
	if (m0 && byId.has(Number(m0[1]))) first = Number(m0[1]);
	else if (data.best !== null && byId.has(data.best)) first = data.best;
	else if (data.nodes.length) first = data.nodes[0].id;
	if (first !== null) showNode(first, { graph: true, table: true });
	graph.setAttribute('data-wired', String(gNodes.size));
	document.body.setAttribute('data-ready', '1');
})();
