//! Lexer and parser of the rule language: `SOURCE [where CONDITION]`.
//!
//! ```text
//! rule      := source ("where" expr)?
//! source    := "event" IDENT "." IDENT ("," IDENT "." IDENT)* | "call" IDENT "." IDENT
//!            | "tx" ("from" NAME ("," NAME)*)? | "block"
//!            | "preset" IDENT ("(" IDENT ("," IDENT)* ")")?
//! expr      := or
//! or        := and ("||" and)*
//! and       := cmp ("&&" cmp)*
//! cmp       := sum (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in") sum)?
//! sum       := product (("+" | "-") product)*
//! product   := unary (("*" | "/" | "%") unary)*
//! unary     := ("!" | "-") unary | postfix
//! postfix   := primary | IDENT ("." IDENT)* ("(" args ")")?
//! primary   := NUMBER unit? | NUMBER "%" | DURATION | NUMBER "blocks" | STRING | "true" | "false"
//!            | "(" expr ")"
//! ```

use std::ops::Range;

use crate::num::Num;

/// A byte range inside the rule text.
pub type Span = Range<usize>;

/// A syntax error inside the rule text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// What is wrong.
    pub message: String,
    /// Where, in the rule text.
    pub span: Span,
    /// How to fix it.
    pub hint: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Number { value: Num, percent: bool },
    Duration(u64),
    Str(String),
    Hex(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    Dot,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    span: Span,
}

fn err(message: impl Into<String>, span: Span, hint: impl Into<String>) -> SyntaxError {
    SyntaxError { message: message.into(), span, hint: hint.into() }
}

fn lex(text: &str) -> Result<Vec<Token>, SyntaxError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'#' {
            // comment to end of line
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'0' && bytes.get(i + 1) == Some(&b'x') {
            i += 2;
            while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
                i += 1;
            }
            if i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                return Err(err(
                    "malformed hex literal",
                    start..i + 1,
                    "hex literals are 0x followed by hex digits",
                ));
            }
            out.push(Token { tok: Tok::Hex(text[start..i].to_owned()), span: start..i });
            continue;
        }
        if c.is_ascii_digit() {
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
                i += 1;
            }
            let mut frac = String::new();
            if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
                i += 1;
                let fs = i;
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
                    i += 1;
                }
                frac = text[fs..i].replace('_', "");
            }
            let int = text[start..i].split('.').next().unwrap_or("").replace('_', "");
            let mut exp: u32 = 0;
            if i < bytes.len()
                && bytes[i] == b'e'
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
            {
                i += 1;
                let es = i;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                exp = text[es..i]
                    .parse()
                    .map_err(|_| err("exponent too large", start..i, "use an exponent below 78"))?;
            }
            // a duration: digits directly followed by s/m/h/d and no more letters
            if frac.is_empty()
                && exp == 0
                && i < bytes.len()
                && b"smhd".contains(&bytes[i])
                && !bytes.get(i + 1).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
            {
                let n: u64 = int.parse().map_err(|_| {
                    err("duration too large", start..i + 1, "use a smaller duration")
                })?;
                let secs = match bytes[i] {
                    b's' => n,
                    b'm' => n.saturating_mul(60),
                    b'h' => n.saturating_mul(3600),
                    _ => n.saturating_mul(86_400),
                };
                i += 1;
                out.push(Token { tok: Tok::Duration(secs), span: start..i });
                continue;
            }
            if i < bytes.len() && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') {
                let mut j = i;
                while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                    j += 1;
                }
                return Err(err(
                    format!("unexpected `{}` after a number", &text[i..j]),
                    start..j,
                    "separate a unit with a space (`5 ether`); durations are `30s`, `5m`, `2h`, `1d`",
                ));
            }
            let value = decimal(&int, &frac, exp).ok_or_else(|| {
                err("number too large", start..i, "rule numbers must fit 512-bit exact arithmetic")
            })?;
            let percent = bytes.get(i) == Some(&b'%');
            if percent {
                i += 1;
            }
            out.push(Token { tok: Tok::Number { value, percent }, span: start..i });
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'-')
            {
                i += 1;
            }
            // a trailing '-' belongs to a following minus, not to the name
            while text[start..i].ends_with('-') {
                i -= 1;
            }
            out.push(Token { tok: Tok::Ident(text[start..i].to_owned()), span: start..i });
            continue;
        }
        if c == b'"' || c == b'\'' {
            i += 1;
            while i < bytes.len() && bytes[i] != c {
                i += 1;
            }
            if i >= bytes.len() {
                return Err(err(
                    "unterminated string",
                    start..text.len(),
                    "close the string with a matching quote",
                ));
            }
            i += 1;
            out.push(Token { tok: Tok::Str(text[start + 1..i - 1].to_owned()), span: start..i });
            continue;
        }
        let two = text.get(i..i + 2).unwrap_or("");
        let op2 = ["&&", "||", "==", "!=", "<=", ">="].into_iter().find(|o| *o == two);
        if let Some(op) = op2 {
            i += 2;
            out.push(Token { tok: Tok::Op(op), span: start..i });
            continue;
        }
        let tok = match c {
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b',' => Tok::Comma,
            b'.' => Tok::Dot,
            b'+' => Tok::Op("+"),
            b'-' => Tok::Op("-"),
            b'*' => Tok::Op("*"),
            b'/' => Tok::Op("/"),
            b'%' => Tok::Op("%"),
            b'<' => Tok::Op("<"),
            b'>' => Tok::Op(">"),
            b'!' => Tok::Op("!"),
            b'=' => {
                return Err(err("`=` is not an operator", start..start + 1, "compare with `==`"));
            }
            b'&' | b'|' => {
                let op = if c == b'&' { "&&" } else { "||" };
                return Err(err(
                    format!("single `{}`", c as char),
                    start..start + 1,
                    format!("write `{op}`"),
                ));
            }
            _ => {
                let ch = text[start..].chars().next().unwrap_or('?');
                return Err(err(
                    format!("unexpected character `{ch}`"),
                    start..start + ch.len_utf8(),
                    "remove it",
                ));
            }
        };
        i += 1;
        out.push(Token { tok, span: start..i });
    }
    Ok(out)
}

fn decimal(int: &str, frac: &str, exp: u32) -> Option<Num> {
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    let mantissa = if digits.is_empty() {
        Num::ZERO
    } else {
        let v: alloy_primitives::U256 = digits.parse().ok()?;
        Num::from_u256(v)
    };
    let scale = frac.len() as u32;
    let v = if exp >= scale {
        mantissa.checked_mul(Num::pow10(exp - scale).ok()?).ok()?
    } else {
        mantissa.checked_div(Num::pow10(scale - exp).ok()?).ok()??
    };
    Some(v)
}

/// A window of a windowed aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The last N blocks, the current one included.
    Blocks(u64),
    /// The last N seconds of block time.
    Seconds(u64),
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `||`
    Or,
    /// `&&`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
}

/// An expression with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// The expression.
    pub kind: ExprKind,
    /// Its span in the rule text.
    pub span: Span,
}

/// Expression forms.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A number (units and percent applied).
    Num(Num),
    /// A string.
    Str(String),
    /// A hex literal (an address when 20 bytes).
    Hex(String),
    /// `true` / `false`.
    Bool(bool),
    /// A window literal (`10 blocks`, `5m`).
    Window(Window),
    /// A dotted name: `amount`, `tx.from`, `block.number`.
    Path(Vec<String>),
    /// `name(args)` or `contract.method(args)`.
    Call {
        /// The dotted callee.
        callee: Vec<String>,
        /// Span of the callee.
        callee_span: Span,
        /// Arguments.
        args: Vec<Expr>,
    },
    /// `!x`, `-x`.
    Not(Box<Expr>),
    /// `-x`.
    Neg(Box<Expr>),
    /// `a OP b`.
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

/// What a rule watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceAst {
    /// `event CONTRACT.EVENT` (`, CONTRACT.EVENT` …: any of several events)
    Event {
        /// Contract id and its span.
        contract: (String, Span),
        /// Event name and its span.
        event: (String, Span),
        /// Further events, matched as one source (their arguments by name).
        more: Vec<(Named, Named)>,
    },
    /// `call CONTRACT.FUNCTION`
    Call {
        /// Contract id and its span.
        contract: (String, Span),
        /// Function name and its span.
        function: (String, Span),
    },
    /// `tx`, or `tx from NAME, …`: only transactions sent by these
    /// accounts or lists (plan account ids, `[lists]` names, `plan.*`).
    Tx {
        /// Senders named after `from` (empty: the monitor's contracts, either way).
        from: Vec<Named>,
    },
    /// `block`
    Block,
    /// `preset NAME(CONTRACT, …)`
    Preset {
        /// Preset name and span.
        name: (String, Span),
        /// Contracts (empty = the monitor's contracts).
        contracts: Vec<(String, Span)>,
    },
}

/// A name as written, with its span.
pub(crate) type Named = (String, Span);

/// A parsed rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleAst {
    /// What it watches.
    pub source: SourceAst,
    /// Span of the source.
    pub source_span: Span,
    /// The condition, if any.
    pub condition: Option<Expr>,
}

struct Parser<'t> {
    toks: Vec<Token>,
    pos: usize,
    end: usize,
    _text: &'t str,
}

const UNITS: [(&str, u32); 3] = [("ether", 18), ("gwei", 9), ("wei", 0)];

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn here(&self) -> Span {
        self.peek().map_or(self.end..self.end, |t| t.span.clone())
    }

    fn ident(&mut self, what: &str) -> Result<(String, Span), SyntaxError> {
        match self.next() {
            Some(Token { tok: Tok::Ident(s), span }) => Ok((s, span)),
            Some(t) => Err(err(format!("expected {what}"), t.span, format!("write {what} here"))),
            None => Err(err(
                format!("expected {what}, found the end of the rule"),
                self.end..self.end,
                format!("add {what}"),
            )),
        }
    }

    fn expect(&mut self, tok: &Tok, shown: &str) -> Result<Span, SyntaxError> {
        match self.next() {
            Some(t) if &t.tok == tok => Ok(t.span),
            Some(t) => Err(err(format!("expected `{shown}`"), t.span, format!("insert `{shown}`"))),
            None => Err(err(
                format!("expected `{shown}`, found the end of the rule"),
                self.end..self.end,
                format!("add `{shown}`"),
            )),
        }
    }

    /// `CONTRACT.NAME` after the source keyword `kw`.
    fn dotted(&mut self, kw: &str, what: &str) -> Result<(Named, Named), SyntaxError> {
        let contract = self.ident("a contract id")?;
        if !matches!(self.peek(), Some(Token { tok: Tok::Dot, .. })) {
            return Err(err(
                format!("expected `.` after `{}`", contract.0),
                self.here(),
                format!("write `{kw} CONTRACT.NAME`"),
            ));
        }
        self.next();
        Ok((contract, self.ident(what)?))
    }

    /// A name that may be dotted (`guardian`, `plan.signers`), joined with `.`.
    fn path_name(&mut self, what: &str) -> Result<Named, SyntaxError> {
        let (mut name, span) = self.ident(what)?;
        let mut end = span.end;
        while matches!(self.peek(), Some(Token { tok: Tok::Dot, .. })) {
            self.next();
            let (part, s) = self.ident("a name after `.`")?;
            name.push('.');
            name.push_str(&part);
            end = s.end;
        }
        Ok((name, span.start..end))
    }

    fn source(&mut self) -> Result<(SourceAst, Span), SyntaxError> {
        let (kw, span) = self.ident("a source (`event`, `call`, `tx`, `block` or `preset`)")?;
        let src = match kw.as_str() {
            "event" | "call" => {
                let what = if kw == "event" { "an event name" } else { "a function name" };
                let (contract, name) = self.dotted(&kw, what)?;
                if kw == "event" {
                    let mut more = Vec::new();
                    while matches!(self.peek(), Some(Token { tok: Tok::Comma, .. })) {
                        self.next();
                        more.push(self.dotted(&kw, what)?);
                    }
                    SourceAst::Event { contract, event: name, more }
                } else {
                    SourceAst::Call { contract, function: name }
                }
            }
            "tx" => {
                let mut from = Vec::new();
                if matches!(self.peek(), Some(Token { tok: Tok::Ident(w), .. }) if w == "from") {
                    self.next();
                    loop {
                        from.push(self.path_name("an account id or an address list")?);
                        if !matches!(self.peek(), Some(Token { tok: Tok::Comma, .. })) {
                            break;
                        }
                        self.next();
                    }
                }
                SourceAst::Tx { from }
            }
            "block" => SourceAst::Block,
            "preset" => {
                let name = self.ident("a preset name")?;
                let mut contracts = Vec::new();
                if matches!(self.peek(), Some(Token { tok: Tok::LParen, .. })) {
                    self.next();
                    loop {
                        contracts.push(self.ident("a contract id")?);
                        match self.next() {
                            Some(Token { tok: Tok::Comma, .. }) => {}
                            Some(Token { tok: Tok::RParen, .. }) => break,
                            Some(t) => {
                                return Err(err(
                                    "expected `,` or `)`",
                                    t.span,
                                    "separate contracts with commas",
                                ));
                            }
                            None => return Err(err("unclosed `(`", self.end..self.end, "add `)`")),
                        }
                    }
                }
                SourceAst::Preset { name, contracts }
            }
            other => {
                return Err(err(
                    format!("a rule starts with its source, not `{other}`"),
                    span,
                    "start with `event C.E`, `call C.f`, `tx`, `block` or `preset NAME`, then `where CONDITION`",
                ));
            }
        };
        let end = self.toks.get(self.pos.saturating_sub(1)).map_or(span.end, |t| t.span.end);
        Ok((src, span.start..end))
    }

    fn expr(&mut self, min_prec: u8) -> Result<Expr, SyntaxError> {
        let mut lhs = self.unary()?;
        while let Some(t) = self.peek() {
            let (op, prec) = match &t.tok {
                Tok::Op("||") => (BinOp::Or, 1),
                Tok::Op("&&") => (BinOp::And, 2),
                Tok::Op("==") => (BinOp::Eq, 3),
                Tok::Op("!=") => (BinOp::Ne, 3),
                Tok::Op("<") => (BinOp::Lt, 3),
                Tok::Op("<=") => (BinOp::Le, 3),
                Tok::Op(">") => (BinOp::Gt, 3),
                Tok::Op(">=") => (BinOp::Ge, 3),
                Tok::Ident(s) if s == "in" => (BinOp::In, 3),
                Tok::Op("+") => (BinOp::Add, 4),
                Tok::Op("-") => (BinOp::Sub, 4),
                Tok::Op("*") => (BinOp::Mul, 5),
                Tok::Op("/") => (BinOp::Div, 5),
                Tok::Op("%") => (BinOp::Rem, 5),
                _ => break,
            };
            if prec < min_prec {
                break;
            }
            let op_span = t.span.clone();
            self.next();
            // comparisons do not chain: `a < b < c` is an error
            let rhs = self.expr(prec + 1)?;
            if prec == 3
                && let Some(t) = self.peek()
                && matches!(&t.tok, Tok::Op("==" | "!=" | "<" | "<=" | ">" | ">="))
            {
                return Err(err(
                    "comparisons cannot be chained",
                    t.span.clone(),
                    "join them with `&&`: `a < b && b < c`",
                ));
            }
            let _ = op_span;
            let span = lhs.span.start..rhs.span.end;
            lhs = Expr { kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span };
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        match self.peek().map(|t| (t.tok.clone(), t.span.clone())) {
            Some((Tok::Op("!"), span)) => {
                self.next();
                let e = self.unary()?;
                let s = span.start..e.span.end;
                Ok(Expr { kind: ExprKind::Not(Box::new(e)), span: s })
            }
            Some((Tok::Op("-"), span)) => {
                self.next();
                let e = self.unary()?;
                let s = span.start..e.span.end;
                Ok(Expr { kind: ExprKind::Neg(Box::new(e)), span: s })
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        let Some(t) = self.next() else {
            return Err(err(
                "expected a value, found the end of the rule",
                self.end..self.end,
                "complete the condition",
            ));
        };
        let span = t.span.clone();
        match t.tok {
            Tok::Number { value, percent } => {
                if percent {
                    let v =
                        value.checked_div(Num::from_u64(100)).ok().flatten().ok_or_else(|| {
                            err("number too large", span.clone(), "use a smaller number")
                        })?;
                    return Ok(Expr { kind: ExprKind::Num(v), span });
                }
                if let Some(Token { tok: Tok::Ident(unit), span: uspan }) = self.peek().cloned() {
                    if let Some((_, exp)) = UNITS.iter().find(|(u, _)| *u == unit) {
                        self.next();
                        let v = value.checked_mul(Num::pow10(*exp).unwrap_or(Num::ZERO)).map_err(
                            |_| {
                                err(
                                    "number too large",
                                    span.start..uspan.end,
                                    "use a smaller number",
                                )
                            },
                        )?;
                        return Ok(Expr { kind: ExprKind::Num(v), span: span.start..uspan.end });
                    }
                    if unit == "blocks" || unit == "block" {
                        self.next();
                        let n = value
                            .to_u256()
                            .and_then(|v| u64::try_from(v).ok())
                            .filter(|n| *n > 0)
                            .ok_or_else(|| {
                                err(
                                    "a block window is a positive whole number",
                                    span.start..uspan.end,
                                    "write e.g. `10 blocks`",
                                )
                            })?;
                        return Ok(Expr {
                            kind: ExprKind::Window(Window::Blocks(n)),
                            span: span.start..uspan.end,
                        });
                    }
                }
                Ok(Expr { kind: ExprKind::Num(value), span })
            }
            Tok::Duration(secs) => Ok(Expr { kind: ExprKind::Window(Window::Seconds(secs)), span }),
            Tok::Str(s) => Ok(Expr { kind: ExprKind::Str(s), span }),
            Tok::Hex(h) => Ok(Expr { kind: ExprKind::Hex(h), span }),
            Tok::LParen => {
                let e = self.expr(1)?;
                let close = self.expect(&Tok::RParen, ")")?;
                Ok(Expr { kind: e.kind, span: span.start..close.end })
            }
            Tok::Ident(name) if name == "true" || name == "false" => {
                Ok(Expr { kind: ExprKind::Bool(name == "true"), span })
            }
            Tok::Ident(name) => {
                let mut path = vec![name];
                let mut end = span.end;
                while matches!(self.peek(), Some(Token { tok: Tok::Dot, .. })) {
                    self.next();
                    let (seg, s) = self.ident("a name after `.`")?;
                    path.push(seg);
                    end = s.end;
                }
                if matches!(self.peek(), Some(Token { tok: Tok::LParen, .. })) {
                    self.next();
                    let mut args = Vec::new();
                    if matches!(self.peek(), Some(Token { tok: Tok::RParen, .. })) {
                        let close = self.next().map_or(end, |t| t.span.end);
                        return Ok(Expr {
                            kind: ExprKind::Call {
                                callee: path,
                                callee_span: span.start..end,
                                args,
                            },
                            span: span.start..close,
                        });
                    }
                    loop {
                        args.push(self.expr(1)?);
                        match self.next() {
                            Some(Token { tok: Tok::Comma, .. }) => {}
                            Some(Token { tok: Tok::RParen, span: close }) => {
                                return Ok(Expr {
                                    kind: ExprKind::Call {
                                        callee: path,
                                        callee_span: span.start..end,
                                        args,
                                    },
                                    span: span.start..close.end,
                                });
                            }
                            Some(t) => {
                                return Err(err(
                                    "expected `,` or `)` in the argument list",
                                    t.span,
                                    "separate arguments with commas",
                                ));
                            }
                            None => return Err(err("unclosed `(`", self.end..self.end, "add `)`")),
                        }
                    }
                }
                Ok(Expr { kind: ExprKind::Path(path), span: span.start..end })
            }
            Tok::Op(op) => Err(err(
                format!("unexpected `{op}`"),
                span,
                "an operator needs a value on each side",
            )),
            Tok::RParen => Err(err("unexpected `)`", span, "remove it or add the matching `(`")),
            Tok::Comma => Err(err("unexpected `,`", span, "commas only separate arguments")),
            Tok::Dot => {
                Err(err("unexpected `.`", span, "`.` joins names: `tx.from`, `pool.Borrow`"))
            }
        }
    }
}

/// Parses a rule.
///
/// # Errors
/// The first syntax error, positioned in `text`.
pub fn parse(text: &str) -> Result<RuleAst, SyntaxError> {
    let toks = lex(text)?;
    let end = text.trim_end().len();
    let mut p = Parser { toks, pos: 0, end, _text: text };
    if p.peek().is_none() {
        return Err(err(
            "the rule is empty",
            0..0,
            "write e.g. `event pool.Borrow where amount > 100_000e6`",
        ));
    }
    let (source, source_span) = p.source()?;
    let condition = match p.next() {
        None => None,
        Some(Token { tok: Tok::Ident(w), .. }) if w == "where" => {
            let e = p.expr(1)?;
            Some(e)
        }
        Some(t) => {
            return Err(err(
                "expected `where` after the source",
                t.span,
                "write `SOURCE where CONDITION`",
            ));
        }
    };
    if let Some(t) = p.next() {
        return Err(err(
            "unexpected text after the condition",
            t.span,
            "join conditions with `&&` or `||`",
        ));
    }
    Ok(RuleAst { source, source_span, condition })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sources_and_precedence() {
        let r =
            parse("event pool.Borrow where amount > 100_000e6 && !(tx.from in attackers)").unwrap();
        assert!(matches!(r.source, SourceAst::Event { .. }));
        let Some(Expr { kind: ExprKind::Binary(BinOp::And, lhs, _), .. }) = r.condition else {
            panic!()
        };
        let ExprKind::Binary(BinOp::Gt, _, rhs) = lhs.kind else { panic!() };
        assert_eq!(rhs.kind, ExprKind::Num(Num::from_u64(100_000_000_000)));
        assert!(
            matches!(parse("tx").unwrap().source, SourceAst::Tx { ref from } if from.is_empty())
        );
        let from = match parse("tx from plan.signers, admin where !tx.firebreak").unwrap().source {
            SourceAst::Tx { from } => from,
            other => panic!("{other:?}"),
        };
        assert_eq!(from, vec![("plan.signers".to_owned(), 8..20), ("admin".to_owned(), 22..27)]);
        assert!(parse("tx from").is_err());
        assert!(parse("tx from plan.").is_err());
        assert!(
            matches!(parse("preset admin_changes(pool, oracle)").unwrap().source, SourceAst::Preset { ref contracts, .. } if contracts.len() == 2)
        );
        assert!(parse("block where sum(x, 10 blocks) > 5% * 3").is_ok());
    }

    #[test]
    fn literals_are_exact() {
        let num =
            |t: &str| match parse(&format!("block where x > {t}")).unwrap().condition.unwrap().kind
            {
                ExprKind::Binary(_, _, rhs) => rhs.kind,
                _ => panic!(),
            };
        assert_eq!(num("1.5 ether"), ExprKind::Num(Num::from_u64(1_500_000_000_000_000_000)));
        assert_eq!(num("5 gwei"), ExprKind::Num(Num::from_u64(5_000_000_000)));
        assert_eq!(
            num("12.5%"),
            ExprKind::Num(
                Num::ratio(alloy_primitives::U256::from(1), alloy_primitives::U256::from(8))
                    .unwrap()
            )
        );
        assert_eq!(num("2.5e6"), ExprKind::Num(Num::from_u64(2_500_000)));
        assert_eq!(num("5m"), ExprKind::Window(Window::Seconds(300)));
    }

    #[test]
    fn errors_are_positioned() {
        let cases = [
            ("", 0..0, "empty"),
            ("event pool", 10..10, "expected `.`"),
            ("events pool.X", 0..6, "starts with its source"),
            ("block where x = 1", 14..15, "`=` is not an operator"),
            ("block where x > ", 15..15, "end of the rule"),
            ("block where (x > 1", 18..18, "expected `)`"),
            ("block where a < b < c", 18..19, "chained"),
            ("block where x > 5eth", 16..20, "after a number"),
            ("block where x & y", 14..15, "single `&`"),
            ("block x", 6..7, "expected `where`"),
            ("block where x > 1 y", 18..19, "unexpected text"),
            ("block where s == \"abc", 17..21, "unterminated"),
        ];
        for (text, span, msg) in cases {
            let e = parse(text).unwrap_err();
            assert!(e.message.contains(msg), "{text}: {e:?}");
            assert_eq!(e.span, span, "{text}: {e:?}");
        }
    }
}
