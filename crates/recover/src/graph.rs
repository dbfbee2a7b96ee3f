//! The fund-flow graph: who sent what to whom, hop by hop from the
//! protocol, drawn as SVG and exported as CSV.

use std::{collections::BTreeMap, fmt::Write as _};

use alloy_primitives::U256;
use firebreak_primitives::{escape_html, event::FundsMoved};

use crate::book::{amount, whole};

/// A node: an address at its column (0: the protocol).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The address (as recorded).
    pub address: String,
    /// The fewest hops from the protocol (1: an attacker that took from it;
    /// 2: an address it received from the attacker, …).
    pub level: u32,
    /// Where it is drawn: its level, counted from the lowest on record.
    pub column: u32,
    /// Its label, when known.
    pub label: Option<String>,
    /// Its kind, when labelled.
    pub kind: Option<String>,
}

/// An edge: everything one address sent another in one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// Sender.
    pub from: String,
    /// Receiver.
    pub to: String,
    /// Asset.
    pub asset: String,
    /// Total, base units.
    pub amount: U256,
    /// The asset's decimals.
    pub decimals: u8,
    /// Transfers summed.
    pub transfers: usize,
}

/// The graph of an incident's traced transfers.
#[derive(Debug, Clone, Default)]
pub struct FlowGraph {
    /// Nodes by column, then address.
    pub nodes: Vec<Node>,
    /// Edges.
    pub edges: Vec<Edge>,
}

impl FlowGraph {
    /// Builds the graph of `moves`; `attackers` are marked as such.
    pub fn new(moves: &[FundsMoved], attackers: &[alloy_primitives::Address]) -> Self {
        let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
        let mut edges: BTreeMap<(String, String, String), Edge> = BTreeMap::new();
        let key = |s: &str| s.to_ascii_lowercase();
        for m in moves {
            let t = &m.transfer;
            let from = nodes.entry(key(&t.from)).or_insert_with(|| Node {
                address: t.from.clone(),
                level: m.hop,
                column: 0,
                label: None,
                kind: (m.hop == 0).then(|| "protocol".to_owned()),
            });
            from.level = from.level.min(m.hop);
            let to = nodes.entry(key(&t.to)).or_insert_with(|| Node {
                address: t.to.clone(),
                level: m.hop + 1,
                column: 0,
                label: None,
                kind: None,
            });
            to.level = to.level.min(m.hop + 1);
            if m.label.is_some() {
                to.label.clone_from(&m.label);
                to.kind.clone_from(&m.kind);
            }
            let e =
                edges.entry((key(&t.from), key(&t.to), t.asset.clone())).or_insert_with(|| Edge {
                    from: t.from.clone(),
                    to: t.to.clone(),
                    asset: t.asset.clone(),
                    amount: U256::ZERO,
                    decimals: t.decimals,
                    transfers: 0,
                });
            e.amount = e.amount.saturating_add(amount(t));
            e.transfers += 1;
        }
        for a in attackers {
            if let Some(n) = nodes.get_mut(&key(&a.to_string()))
                && n.kind.is_none()
            {
                n.kind = Some("attacker".into());
            }
        }
        let mut nodes: Vec<Node> = nodes.into_values().collect();
        nodes.sort_by(|a, b| a.level.cmp(&b.level).then_with(|| a.address.cmp(&b.address)));
        // the first column holds the earliest senders (the protocol, or the
        // attackers when nothing left the protocol on record)
        let first = nodes.iter().map(|n| n.level).min().unwrap_or(0);
        for n in &mut nodes {
            n.column = n.level - first;
        }
        Self { nodes, edges: edges.into_values().collect() }
    }

    /// The graph as SVG: one column per hop, an arrow per (sender, receiver,
    /// asset) with its total; exits (bridges, mixers, exchanges, sanctioned)
    /// in red.
    pub fn svg(&self, title: &str) -> String {
        const W: u32 = 230;
        const H: u32 = 54;
        const GAP_X: u32 = 90;
        const GAP_Y: u32 = 26;
        const TOP: u32 = 50;
        let mut row: BTreeMap<u32, u32> = BTreeMap::new();
        let mut at: BTreeMap<String, (u32, u32)> = BTreeMap::new();
        for n in &self.nodes {
            let r = row.entry(n.column).or_default();
            let x = 20 + n.column * (W + GAP_X);
            let y = TOP + *r * (H + GAP_Y);
            *r += 1;
            at.insert(n.address.to_ascii_lowercase(), (x, y));
        }
        let width = 40 + (row.keys().max().copied().unwrap_or(0) + 1) * (W + GAP_X);
        let height = TOP + 20 + row.values().max().copied().unwrap_or(1) * (H + GAP_Y);
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"fund flow\">\n\
             <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#495057\"/></marker></defs>\n\
             <text x=\"20\" y=\"26\" font-size=\"16\" font-weight=\"bold\">{}</text>\n",
            escape_html(title)
        );
        if self.nodes.is_empty() {
            s.push_str("<text x=\"20\" y=\"60\">no traced transfers yet</text>\n</svg>\n");
            return s;
        }
        for e in &self.edges {
            let (Some(&(x1, y1)), Some(&(x2, y2))) =
                (at.get(&e.from.to_ascii_lowercase()), at.get(&e.to.to_ascii_lowercase()))
            else {
                continue;
            };
            let (sx, sy, tx, ty) = (x1 + W, y1 + H / 2, x2, y2 + H / 2);
            let _ = writeln!(
                s,
                "<g class=\"edge\"><line x1=\"{sx}\" y1=\"{sy}\" x2=\"{tx}\" y2=\"{ty}\" stroke=\"#495057\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/>\
                 <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#212529\">{} {}</text></g>",
                (sx + tx) / 2,
                (sy + ty) / 2 - 4,
                escape_html(&whole(e.amount, e.decimals)),
                escape_html(&e.asset)
            );
        }
        for n in &self.nodes {
            let (x, y) = at[&n.address.to_ascii_lowercase()];
            let (fill, stroke) = match n.kind.as_deref() {
                Some("bridge" | "mixer" | "exchange" | "sanctioned") => ("#ffe3e3", "#c92a2a"),
                Some("protocol") => ("#e7f5ff", "#1971c2"),
                Some("attacker") => ("#f3d9fa", "#862e9c"),
                Some("whitehat") => ("#ebfbee", "#2b8a3e"),
                _ => ("#f8f9fa", "#868e96"),
            };
            let short = if n.address.len() > 14 {
                format!("{}…{}", &n.address[..8], &n.address[n.address.len() - 6..])
            } else {
                n.address.clone()
            };
            let caption = match (&n.label, &n.kind) {
                (Some(l), Some(k)) => format!("{l} ({k})"),
                (Some(l), None) => l.clone(),
                (None, Some(k)) => k.clone(),
                // funds it holds came this many hops after the attacker
                (None, None) => format!("hop {}", n.level.saturating_sub(1)),
            };
            let _ = writeln!(
                s,
                "<g class=\"node\" data-address=\"{}\"><title>{}</title><rect x=\"{x}\" y=\"{y}\" width=\"{W}\" height=\"{H}\" rx=\"6\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.5\"/>\
                 <text x=\"{}\" y=\"{}\" font-family=\"monospace\">{}</text><text x=\"{}\" y=\"{}\" fill=\"{stroke}\">{}</text></g>",
                escape_html(&n.address),
                escape_html(&n.address),
                x + 10,
                y + 21,
                escape_html(&short),
                x + 10,
                y + 40,
                escape_html(&caption)
            );
        }
        s.push_str("</svg>\n");
        s
    }
}

/// The traced transfers as CSV, one per line, with a header.
pub fn csv(moves: &[FundsMoved]) -> String {
    let mut out = String::from(
        "chain_id,block,tx_hash,log_index,hop,from,to,asset,token,amount,decimals,value_micro_usd,label,kind\n",
    );
    let field = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    for m in moves {
        let t = &m.transfer;
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            t.chain_id,
            t.block,
            t.tx_hash,
            t.log_index.map(|i| i.to_string()).unwrap_or_default(),
            m.hop,
            t.from,
            t.to,
            field(&t.asset),
            t.token.as_deref().unwrap_or(""),
            t.amount,
            t.decimals,
            t.value_micro_usd.as_deref().unwrap_or(""),
            field(m.label.as_deref().unwrap_or("")),
            m.kind.as_deref().unwrap_or("")
        );
    }
    out
}
