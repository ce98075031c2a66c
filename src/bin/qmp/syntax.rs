//! The input syntax of QEMU's `qmp-shell` (PyPI `qemu.qmp`, `qemu/qmp/qmp_shell.py`), with
//! the same meaning:
//!
//! - a line is split into words by qmp-shell's own pattern: runs of characters that are not
//!   whitespace, where `"…"` and `'…'` may hold whitespace (the quotes stay in the word);
//! - the first word is the command, the others `key=value`; dots in a key build nested
//!   objects (`cache.direct=false`), and a key may not be both a leaf and a parent, nor set
//!   twice. One deliberate difference: each key starts at the arguments' root (qmp-shell
//!   0.0.6 starts a key after a dotted one inside the object that one walked into);
//! - a value is an integer when Python's `int()` takes it (`-12`, `1_000`, `007`), a boolean
//!   when it reads `true` or `false` in any case, a JSON value when it starts with `{` or `[`
//!   and parses as JSON, else a Python literal (`{'a': None, 'b': (1, 2)}`, with `true`,
//!   `false` and `null` allowed too), and a string otherwise (quotes included, as qmp-shell
//!   sends them);
//! - `transaction(` starts a transaction whose action lines are gathered until `)`, also on
//!   one line (`transaction( abort )`).
//!
//! Parsing is iterative (nesting is a stack, never recursion). Python values that cannot be
//! sent as JSON, on which qmp-shell itself fails (bytes, sets, complex numbers, infinite
//! floats, lone surrogates), and `\N{…}` escapes are refused with an error.

use std::fmt::Write as _;

use qmp_codec::write_json_string;

/// A value built from a line: what qmp-shell builds as a Python object, as JSON.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// `null` / `None`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number as JSON text (integers in canonical decimal).
    Num(String),
    /// A string.
    Str(String),
    /// A list (Python lists and tuples).
    List(Vec<Node>),
    /// An object, members in insertion order, names unique.
    Dict(Vec<(String, Node)>),
    /// A value qmp-shell reads but cannot send as JSON (why); never sent.
    Bad(&'static str),
}

impl Node {
    /// Appends the value as compact JSON (non-ASCII escaped).
    pub fn write_json(&self, out: &mut String) {
        enum Step<'a> {
            Value(&'a Node),
            Text(&'static str),
            Key(&'a str),
        }
        let mut stack = vec![Step::Value(self)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Text(t) => out.push_str(t),
                Step::Key(k) => {
                    // Writing to a String cannot fail.
                    let _ = write_json_string(out, k);
                    out.push(':');
                }
                Step::Value(Node::Null | Node::Bad(_)) => out.push_str("null"),
                Step::Value(Node::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
                Step::Value(Node::Num(n)) => out.push_str(n),
                Step::Value(Node::Str(s)) => {
                    let _ = write_json_string(out, s);
                }
                Step::Value(Node::List(items)) => {
                    out.push('[');
                    stack.push(Step::Text("]"));
                    for (i, item) in items.iter().enumerate().rev() {
                        stack.push(Step::Value(item));
                        if i > 0 {
                            stack.push(Step::Text(","));
                        }
                    }
                }
                Step::Value(Node::Dict(members)) => {
                    out.push('{');
                    stack.push(Step::Text("}"));
                    for (i, (k, v)) in members.iter().enumerate().rev() {
                        stack.push(Step::Value(v));
                        stack.push(Step::Key(k));
                        if i > 0 {
                            stack.push(Step::Text(","));
                        }
                    }
                }
            }
        }
    }

    /// Why the value cannot be sent, if some part of it cannot.
    fn bad(&self) -> Option<&'static str> {
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            match node {
                Node::Bad(why) => return Some(why),
                Node::List(items) => stack.extend(items),
                Node::Dict(members) => stack.extend(members.iter().map(|(_, v)| v)),
                _ => {}
            }
        }
        None
    }

    /// The value as compact JSON.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }
}

/// A command built from one or more lines.
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    /// The command name (the first word, as typed).
    pub name: String,
    /// The `arguments` object (qmp-shell always sends one, `{}` when empty).
    pub arguments: Vec<(String, Node)>,
}

impl Command {
    /// The request as JSON: `{"execute": name, "arguments": {…}}`.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"execute\":");
        let _ = write_json_string(&mut out, &self.name);
        out.push_str(",\"arguments\":");
        Node::Dict(self.arguments.clone()).write_json(&mut out);
        out.push('}');
        out
    }
}

/// qmp-shell's line state: whether a `transaction(` is open, and its actions so far.
#[derive(Debug, Default)]
pub struct Parser {
    actions: Option<Vec<Node>>,
}

impl Parser {
    /// A parser outside any transaction.
    pub fn new() -> Parser {
        Parser::default()
    }

    /// Whether a `transaction(` is open (the prompt is then `TRANS> `).
    pub fn in_transaction(&self) -> bool {
        self.actions.is_some()
    }

    /// Parses one line as qmp-shell's `_build_cmd` does: `Ok(Some(command))` to send,
    /// `Ok(None)` when there is nothing to send yet (a blank line, or an action gathered
    /// into an open transaction), `Err` with the reason for a line qmp-shell refuses.
    pub fn line(&mut self, line: &str) -> Result<Option<Command>, String> {
        let words = words(line);
        let mut rest = &words[..];
        if rest.first() == Some(&"transaction(") {
            self.actions = Some(Vec::new());
            rest = &rest[1..];
        }
        if rest.first() == Some(&")") && self.actions.is_some() {
            let actions = self.actions.take().unwrap_or_default();
            if rest.len() > 1 {
                return Err("unexpected input after the `)` closing a transaction".to_owned());
            }
            return Ok(Some(transaction(actions)));
        }
        let Some((name, args)) = rest.split_first() else {
            return Ok(None);
        };
        if let Some(actions) = self.actions.as_mut() {
            let (args, finish) = match args.split_last() {
                Some((&")", init)) => (init, true),
                _ => (args, false),
            };
            let mut data = Vec::new();
            key_values(args, &mut data)?;
            actions.push(Node::Dict(vec![
                ("type".to_owned(), Node::Str((*name).to_owned())),
                ("data".to_owned(), Node::Dict(data)),
            ]));
            if finish {
                let actions = self.actions.take().unwrap_or_default();
                return Ok(Some(transaction(actions)));
            }
            return Ok(None);
        }
        let mut arguments = Vec::new();
        key_values(args, &mut arguments)?;
        Ok(Some(Command {
            name: (*name).to_owned(),
            arguments,
        }))
    }
}

fn transaction(actions: Vec<Node>) -> Command {
    Command {
        name: "transaction".to_owned(),
        arguments: vec![("actions".to_owned(), Node::List(actions))],
    }
}

/// Python's `str.isspace()` (what `\s` matches in a `str` pattern).
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Where a quoted run that opens at byte `open` (a `"` or `'`) ends, as qmp-shell's pattern
/// `"(?:\\.|[^"])*"` finds it with Python's backtracking: the first closing quote reached
/// when a backslash pairs with the next character where it can, else where a pairing has to
/// be undone. Computed right to left, once per quote.
fn quoted_ends(chars: &[(usize, char)], quote: char) -> Vec<Option<usize>> {
    // end[p]: the index just past the closing quote when the run's body is at p.
    let n = chars.len();
    let mut end = vec![None; n + 1];
    for p in (0..n).rev() {
        let c = chars[p].1;
        end[p] = if c == quote {
            Some(p + 1)
        } else if c == '\\' {
            let paired = match chars.get(p + 1) {
                Some(&(_, next)) if next != '\n' => end.get(p + 2).copied().flatten(),
                _ => None,
            };
            paired.or(end[p + 1])
        } else {
            end[p + 1]
        };
    }
    end
}

/// Splits a line into words as qmp-shell does (`re.findall` of its argument pattern).
pub fn words(line: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let double = quoted_ends(&chars, '"');
    let single = quoted_ends(&chars, '\'');
    let offset = |i: usize| chars.get(i).map_or(line.len(), |&(o, _)| o);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while let Some(&(_, c)) = chars.get(i) {
            let next = match c {
                '"' => double.get(i + 1).copied().flatten(),
                '\'' => single.get(i + 1).copied().flatten(),
                c if is_py_space(c) => None,
                _ => Some(i + 1),
            };
            match next {
                Some(n) => i = n,
                None => break,
            }
        }
        if i > start {
            out.push(&line[offset(start)..offset(i)]);
        } else {
            // No word starts here (whitespace, or a quote that never closes): skip it.
            i += 1;
        }
    }
    out
}

/// `key=value` words (as `qmp exec` takes them) as an arguments object's members.
pub fn arguments(words: &[&str]) -> Result<Vec<(String, Node)>, String> {
    let mut members = Vec::new();
    key_values(words, &mut members)?;
    Ok(members)
}

/// Adds `key=value` words to `parent` as qmp-shell's `_cli_expr` does, except that each
/// key starts at `parent` (qmp-shell 0.0.6 starts the next key inside the object the last
/// dotted key walked into, so `file.driver=file file.filename=a` builds
/// `file.file.filename`).
fn key_values(args: &[&str], parent: &mut Vec<(String, Node)>) -> Result<(), String> {
    for arg in args {
        let Some((key, val)) = arg.split_once('=') else {
            return Err(format!("expected a key=value pair, got '{arg}'"));
        };
        let value = parse_value(val)?;
        let path: Vec<&str> = key.split('.').collect();
        let (leaf, parents) = path.split_last().unwrap_or((&"", &[]));
        let mut obj = &mut *parent;
        for (depth, part) in parents.iter().enumerate() {
            let at = match obj.iter().position(|(k, _)| k == part) {
                Some(at) => at,
                None => {
                    obj.push(((*part).to_owned(), Node::Dict(Vec::new())));
                    obj.len() - 1
                }
            };
            obj = match &mut obj[at].1 {
                Node::Dict(d) => d,
                _ => {
                    let name = parents[..=depth].join(".");
                    return Err(format!(
                        "cannot use \"{name}\" as both leaf and non-leaf key"
                    ));
                }
            };
        }
        if let Some((_, old)) = obj.iter().find(|(k, _)| k == leaf) {
            return Err(if matches!(old, Node::Dict(_)) {
                format!("cannot use \"{key}\" as both leaf and non-leaf key")
            } else {
                format!("cannot set \"{key}\" multiple times")
            });
        }
        obj.push(((*leaf).to_owned(), value));
    }
    Ok(())
}

/// Python's limit on the digits of an integer converted from text (3.11 and later).
const MAX_INT_DIGITS: usize = 4300;

/// The Unicode decimal digits (`Nd`) Python's `int()` takes: each block's zero.
const DIGIT_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50,
    0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

fn decimal_digit(c: char) -> Option<u8> {
    let c = c as u32;
    let at = DIGIT_ZEROS.partition_point(|&z| z <= c).checked_sub(1)?;
    let d = c - DIGIT_ZEROS[at];
    u8::try_from(d).ok().filter(|d| *d < 10)
}

/// Digits without leading zeros (`0` for none), with a sign when negative and not zero.
fn canonical_int(negative: bool, digits: &str) -> String {
    let digits = digits.trim_start_matches('0');
    match (digits.is_empty(), negative) {
        (true, _) => "0".to_owned(),
        (false, true) => format!("-{digits}"),
        (false, false) => digits.to_owned(),
    }
}

/// Python's `int(text)`: optional sign, decimal digits of any script with single
/// underscores between them.
fn python_int(text: &str) -> Option<String> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let mut digits = String::new();
    let mut after_digit = false;
    for c in body.chars() {
        if c == '_' && after_digit {
            after_digit = false;
            continue;
        }
        digits.push(char::from(b'0' + decimal_digit(c)?));
        after_digit = true;
    }
    if !after_digit || digits.len() > MAX_INT_DIGITS {
        return None;
    }
    Some(canonical_int(negative, &digits))
}

/// One `key=value` value, as qmp-shell's `_parse_value` reads it.
pub fn parse_value(val: &str) -> Result<Node, String> {
    if let Some(n) = python_int(val) {
        return Ok(Node::Num(n));
    }
    match val.to_lowercase().as_str() {
        "true" => return Ok(Node::Bool(true)),
        "false" => return Ok(Node::Bool(false)),
        _ => {}
    }
    if val.starts_with(['{', '[']) {
        match Literal::new(val, Mode::Json).parse() {
            Ok(node) => return Ok(node),
            Err(Fail::Unsupported(why)) => return Err(format!("{val}: {why}")),
            Err(Fail::Syntax) => {}
        }
        match Literal::new(val, Mode::Python).parse() {
            Ok(node) => return Ok(node),
            Err(Fail::Unsupported(why)) => return Err(format!("{val}: {why}")),
            Err(Fail::Syntax) => {}
        }
    }
    Ok(Node::Str(val.to_owned()))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Python's `json.loads`.
    Json,
    /// Python's `ast.literal_eval`, after qmp-shell maps `true`/`false`/`null`.
    Python,
}

/// Why a literal did not parse.
enum Fail {
    /// Not this syntax: qmp-shell tries the next reading (and finally sends a string).
    Syntax,
    /// qmp-shell reads it but cannot send it as JSON (it fails there): refused.
    Unsupported(&'static str),
}

/// Python's parser refuses more nested brackets than this ("too many nested parentheses").
const MAX_PY_NESTING: usize = 200;
/// Deeper JSON makes Python's `json.loads` fail with a recursion error; QEMU takes 1024.
const MAX_JSON_NESTING: usize = 1000;

/// A dictionary key as Python compares them (`1 == True`, `0 == False`).
#[derive(Clone, Debug, PartialEq)]
enum Key {
    Str(String),
    Int(String),
    Bool(bool),
    None,
}

impl Key {
    fn same(&self, other: &Key) -> bool {
        let as_int = |k: &Key| match k {
            Key::Int(n) => Some(n.clone()),
            Key::Bool(b) => Some(if *b { "1" } else { "0" }.to_owned()),
            _ => None,
        };
        match (as_int(self), as_int(other)) {
            (Some(a), Some(b)) => a == b,
            _ => self == other,
        }
    }

    /// The member name `json.dumps` writes for it.
    fn name(&self) -> String {
        match self {
            Key::Str(s) | Key::Int(s) => s.clone(),
            Key::Bool(b) => if *b { "true" } else { "false" }.to_owned(),
            Key::None => "null".to_owned(),
        }
    }
}

/// A finished value, and whether it is a signed number (Python refuses `-(-1)`).
struct Done {
    node: Node,
    signed: bool,
}

enum Frame {
    /// `[`…`]`, `(`…`)` (a tuple, or grouping of one item without a comma), or a set's
    /// `{`…`}`.
    Seq {
        items: Vec<Node>,
        close: char,
        comma: bool,
    },
    /// `{`…`}`: members so far, and the key waiting for its value.
    Dict {
        members: Vec<(Key, Node)>,
        key: Option<Key>,
    },
    /// A unary sign waiting for its number.
    Sign(bool),
}

struct Literal<'a> {
    text: &'a str,
    pos: usize,
    mode: Mode,
    /// The first value read that cannot be sent as JSON. Python reports a syntax error
    /// anywhere in the text first (qmp-shell then sends the text as a string), so this is
    /// only reported once the whole text parsed.
    unsupported: Option<&'static str>,
    /// Why the string being read cannot be sent.
    bad_string: Option<&'static str>,
}

impl<'a> Literal<'a> {
    fn new(text: &'a str, mode: Mode) -> Self {
        Literal {
            text,
            pos: 0,
            mode,
            unsupported: None,
            bad_string: None,
        }
    }

    /// Notes a dictionary key that cannot be sent; parsing goes on.
    fn defer(&mut self, why: &'static str) {
        self.unsupported.get_or_insert(why);
    }

    /// A successful parse, unless something unsendable was read and kept (a value that a
    /// later duplicate key replaced is gone, as in Python).
    fn finish(&self, node: Node) -> Result<Node, Fail> {
        match self.unsupported.or_else(|| node.bad()) {
            Some(why) => Err(Fail::Unsupported(why)),
            None => Ok(node),
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.text[self.pos..].chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    /// Skips whitespace (and Python comments).
    fn skip(&mut self) {
        loop {
            match self.peek() {
                Some(' ' | '\t' | '\n' | '\r') => self.pos += 1,
                Some('\x0c') if self.mode == Mode::Python => self.pos += 1,
                Some('#') if self.mode == Mode::Python => {
                    self.pos = self.text[self.pos..]
                        .find(['\n', '\r'])
                        .map_or(self.text.len(), |i| self.pos + i);
                }
                _ => return,
            }
        }
    }

    fn max_nesting(&self) -> usize {
        match self.mode {
            Mode::Json => MAX_JSON_NESTING,
            Mode::Python => MAX_PY_NESTING,
        }
    }

    /// The whole text as one value (in Python, a top-level `a, b` is a tuple).
    fn parse(mut self) -> Result<Node, Fail> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut top: Vec<Node> = Vec::new();
        let mut top_comma = false;
        'value: loop {
            // Read one value, or open a container.
            self.skip();
            let c = self.peek().ok_or(Fail::Syntax)?;
            let mut done = match c {
                '[' | '{' | '(' => {
                    if c == '(' && self.mode == Mode::Json {
                        return Err(Fail::Syntax);
                    }
                    self.pos += 1;
                    let depth = stack
                        .iter()
                        .filter(|f| !matches!(f, Frame::Sign(_)))
                        .count();
                    if depth >= self.max_nesting() {
                        return Err(match self.mode {
                            Mode::Json => Fail::Unsupported("nested too deeply"),
                            Mode::Python => Fail::Syntax,
                        });
                    }
                    let close = match c {
                        '[' => ']',
                        '(' => ')',
                        _ => '}',
                    };
                    self.skip();
                    if self.eat(close) {
                        let node = if c == '{' {
                            Node::Dict(Vec::new())
                        } else {
                            Node::List(Vec::new())
                        };
                        Done {
                            node,
                            signed: false,
                        }
                    } else {
                        stack.push(if c == '{' {
                            Frame::Dict {
                                members: Vec::new(),
                                key: None,
                            }
                        } else {
                            Frame::Seq {
                                items: Vec::new(),
                                close,
                                comma: false,
                            }
                        });
                        continue 'value;
                    }
                }
                '-' | '+' if self.mode == Mode::Python => {
                    self.pos += 1;
                    stack.push(Frame::Sign(c == '-'));
                    continue 'value;
                }
                '"' => self.string(false)?,
                '\'' if self.mode == Mode::Python => self.string(false)?,
                '0'..='9' | '-' => self.number()?,
                '.' if self.mode == Mode::Python
                    && self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) =>
                {
                    self.number()?
                }
                c if c.is_alphabetic() || c == '_' => self.name()?,
                _ => return Err(Fail::Syntax),
            };
            // Hand the value to the frames until one needs more input.
            loop {
                let Some(frame) = stack.last_mut() else {
                    // Top level.
                    self.skip();
                    match self.peek() {
                        None if top.is_empty() && !top_comma => return self.finish(done.node),
                        None => {
                            top.push(done.node);
                            return self.finish(Node::List(top));
                        }
                        Some(',') if self.mode == Mode::Python => {
                            self.pos += 1;
                            top.push(done.node);
                            top_comma = true;
                            self.skip();
                            if self.peek().is_none() {
                                return self.finish(Node::List(top));
                            }
                            continue 'value;
                        }
                        _ => return Err(Fail::Syntax),
                    }
                };
                match frame {
                    Frame::Sign(negative) => {
                        let negative = *negative;
                        stack.pop();
                        match done.node {
                            Node::Num(n) if !done.signed => {
                                let n = match (negative, n.strip_prefix('-')) {
                                    (false, _) => n,
                                    (true, Some(abs)) => abs.to_owned(),
                                    (true, None) if n == "0" => n,
                                    (true, None) => format!("-{n}"),
                                };
                                done = Done {
                                    node: Node::Num(n),
                                    signed: true,
                                };
                            }
                            bad @ Node::Bad(_) => {
                                done = Done {
                                    node: bad,
                                    signed: true,
                                }
                            }
                            _ => return Err(Fail::Syntax),
                        }
                    }
                    Frame::Seq {
                        items,
                        close,
                        comma,
                    } => {
                        let close = *close;
                        self.skip();
                        if self.eat(',') {
                            items.push(done.node);
                            *comma = true;
                            self.skip();
                            if self.mode == Mode::Json || !self.eat(close) {
                                continue 'value;
                            }
                        } else if self.eat(close) {
                            items.push(done.node);
                        } else {
                            return Err(Fail::Syntax);
                        }
                        // Closed.
                        let (items, comma) = (std::mem::take(items), *comma);
                        stack.pop();
                        done = if close == '}' {
                            Done {
                                node: Node::Bad("a set (not JSON)"),
                                signed: false,
                            }
                        } else if close == ')' && !comma && items.len() == 1 {
                            // Grouping: `(x)` is x, signed or not.
                            let node = items.into_iter().next().unwrap_or(Node::Null);
                            let signed = matches!(&node, Node::Num(n) if n.starts_with('-'));
                            Done { node, signed }
                        } else {
                            Done {
                                node: Node::List(items),
                                signed: false,
                            }
                        };
                    }
                    Frame::Dict { members, key } => {
                        self.skip();
                        let Some(k) = key.take() else {
                            // This value is a key.
                            let k = match (done.node, self.mode) {
                                (Node::Str(s), _) => Key::Str(s),
                                (_, Mode::Json) => return Err(Fail::Syntax),
                                (Node::Num(n), _) if !n.contains(['.', 'e', 'E']) => Key::Int(n),
                                (Node::Bool(b), _) => Key::Bool(b),
                                (Node::Null, _) => Key::None,
                                (Node::Num(_), _) => {
                                    self.defer("a float as a dictionary key");
                                    Key::None
                                }
                                _ => {
                                    self.defer("an unhashable dictionary key");
                                    Key::None
                                }
                            };
                            if !self.eat(':') {
                                if self.mode == Mode::Python
                                    && members.is_empty()
                                    && matches!(self.peek(), Some(',' | '}'))
                                {
                                    // A set: read on as a sequence closed by `}`.
                                    if self.eat(',') {
                                        self.skip();
                                        if !self.eat('}') {
                                            *frame = Frame::Seq {
                                                items: vec![Node::Null],
                                                close: '}',
                                                comma: true,
                                            };
                                            continue 'value;
                                        }
                                    } else {
                                        self.eat('}');
                                    }
                                    stack.pop();
                                    done = Done {
                                        node: Node::Bad("a set (not JSON)"),
                                        signed: false,
                                    };
                                    continue;
                                }
                                return Err(Fail::Syntax);
                            }
                            *key = Some(k);
                            continue 'value;
                        };
                        match members.iter_mut().find(|(old, _)| old.same(&k)) {
                            // The first key stays, the last value wins (Python and json).
                            Some((_, v)) => *v = done.node,
                            None => members.push((k, done.node)),
                        }
                        if self.eat(',') {
                            self.skip();
                            if self.mode == Mode::Json || !self.eat('}') {
                                continue 'value;
                            }
                        } else if !self.eat('}') {
                            return Err(Fail::Syntax);
                        }
                        let members = std::mem::take(members);
                        stack.pop();
                        let mut out: Vec<(String, Node)> = Vec::with_capacity(members.len());
                        for (k, v) in members {
                            let name = k.name();
                            if out.iter().any(|(n, _)| *n == name) {
                                self.defer("two dictionary keys that print the same");
                            }
                            out.push((name, v));
                        }
                        done = Done {
                            node: Node::Dict(out),
                            signed: false,
                        };
                    }
                }
            }
        }
    }

    /// `true`, `None`, … or a string prefix (`r'…'`).
    fn name(&mut self) -> Result<Done, Fail> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.bump();
        }
        let name = &self.text[start..self.pos];
        let node = match (name, self.mode) {
            ("true", _) | ("True", Mode::Python) => Node::Bool(true),
            ("false", _) | ("False", Mode::Python) => Node::Bool(false),
            ("null", _) | ("None", Mode::Python) => Node::Null,
            ("NaN" | "Infinity", Mode::Json) => Node::Bad("NaN and Infinity are not JSON"),
            (prefix, Mode::Python) if matches!(self.peek(), Some('"' | '\'')) => {
                let lower = prefix.to_ascii_lowercase();
                return match lower.as_str() {
                    "u" => self.string(false),
                    "r" => self.string(true),
                    "b" | "br" | "rb" => self.string(lower.contains('r')).map(|_| Done {
                        node: Node::Bad("bytes (not JSON)"),
                        signed: false,
                    }),
                    _ => Err(Fail::Syntax),
                };
            }
            _ => return Err(Fail::Syntax),
        };
        Ok(Done {
            node,
            signed: false,
        })
    }

    /// A number: JSON's grammar kept as written, or a Python literal converted.
    fn number(&mut self) -> Result<Done, Fail> {
        let rest = &self.text[self.pos..];
        let b = rest.as_bytes();
        if self.mode == Mode::Json {
            let mut i = usize::from(b.first() == Some(&b'-'));
            if rest[i..].starts_with("Infinity") {
                self.pos += i + "Infinity".len();
                return Ok(Done {
                    node: Node::Bad("NaN and Infinity are not JSON"),
                    signed: false,
                });
            }
            let digits = |i: &mut usize| {
                let s = *i;
                while b.get(*i).is_some_and(u8::is_ascii_digit) {
                    *i += 1;
                }
                *i > s
            };
            match b.get(i) {
                Some(b'0') => i += 1,
                Some(b'1'..=b'9') => {
                    digits(&mut i);
                }
                _ => return Err(Fail::Syntax),
            }
            if b.get(i) == Some(&b'.') {
                i += 1;
                if !digits(&mut i) {
                    return Err(Fail::Syntax);
                }
            }
            if matches!(b.get(i), Some(b'e' | b'E')) {
                i += 1;
                if matches!(b.get(i), Some(b'+' | b'-')) {
                    i += 1;
                }
                if !digits(&mut i) {
                    return Err(Fail::Syntax);
                }
            }
            let text = &rest[..i];
            let float = text.contains(['.', 'e', 'E']);
            self.pos += i;
            let node = if float && !text.parse::<f64>().is_ok_and(f64::is_finite) {
                Node::Bad("a number too large for a float")
            } else {
                Node::Num(text.to_owned())
            };
            return Ok(Done {
                node,
                signed: b.first() == Some(&b'-'),
            });
        }
        // Python: digits with single underscores between them.
        let digitpart = |i: &mut usize, ok: fn(&u8) -> bool, allow_lead: bool| -> bool {
            let s = *i;
            let mut last_digit = false;
            if allow_lead && b.get(*i) == Some(&b'_') {
                *i += 1;
            }
            loop {
                match b.get(*i) {
                    Some(c) if ok(c) => {
                        *i += 1;
                        last_digit = true;
                    }
                    Some(b'_') if last_digit && b.get(*i + 1).is_some_and(ok) => {
                        *i += 1;
                        last_digit = false;
                    }
                    _ => break,
                }
            }
            *i > s && last_digit
        };
        let mut i = 0;
        let radix = match (b.first(), b.get(1)) {
            (Some(b'0'), Some(b'x' | b'X')) => 16,
            (Some(b'0'), Some(b'o' | b'O')) => 8,
            (Some(b'0'), Some(b'b' | b'B')) => 2,
            _ => 10,
        };
        let end_ok = |i: usize| {
            !b.get(i)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c >= 0x80)
        };
        if radix != 10 {
            i = 2;
            let ok: fn(&u8) -> bool = match radix {
                16 => u8::is_ascii_hexdigit,
                8 => |c| (b'0'..=b'7').contains(c),
                _ => |c| *c == b'0' || *c == b'1',
            };
            if !digitpart(&mut i, ok, true) || !end_ok(i) {
                return Err(Fail::Syntax);
            }
            let digits: Vec<u8> = b[2..i].iter().copied().filter(|c| *c != b'_').collect();
            self.pos += i;
            return Ok(Done {
                node: Node::Num(to_decimal(&digits, radix)),
                signed: false,
            });
        }
        let int_part = digitpart(&mut i, u8::is_ascii_digit, false);
        let mut float = false;
        if b.get(i) == Some(&b'.') {
            i += 1;
            float = true;
            let frac = b.get(i).is_some_and(u8::is_ascii_digit);
            if frac && !digitpart(&mut i, u8::is_ascii_digit, false) {
                return Err(Fail::Syntax);
            }
            if !int_part && !frac {
                return Err(Fail::Syntax);
            }
        } else if !int_part {
            return Err(Fail::Syntax);
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(b.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if b.get(j).is_some_and(u8::is_ascii_digit) {
                if !digitpart(&mut j, u8::is_ascii_digit, false) {
                    return Err(Fail::Syntax);
                }
                i = j;
                float = true;
            }
        }
        let complex = matches!(b.get(i), Some(b'j' | b'J'));
        if complex {
            i += 1;
        }
        if !end_ok(i) {
            return Err(Fail::Syntax);
        }
        let text: String = rest[..i].chars().filter(|c| *c != '_').collect();
        self.pos += i;
        let node = if float || complex {
            let text = text.trim_end_matches(['j', 'J']);
            let f: f64 = text.parse().map_err(|_| Fail::Syntax)?;
            if complex {
                Node::Bad("a complex number (not JSON)")
            } else if !f.is_finite() {
                Node::Bad("an infinite float (not JSON)")
            } else {
                Node::Num(format!("{f:?}"))
            }
        } else {
            // Python 3 refuses leading zeros in a decimal literal other than 0.
            if text.len() > 1 && text.starts_with('0') && text.bytes().any(|c| c != b'0') {
                return Err(Fail::Syntax);
            }
            if text.len() > MAX_INT_DIGITS {
                return Err(Fail::Syntax);
            }
            Node::Num(canonical_int(false, &text))
        };
        Ok(Done {
            node,
            signed: false,
        })
    }

    /// A string literal at the cursor (a quote): JSON's, or Python's (`raw` after `r`), with
    /// Python's implicit concatenation of adjacent literals.
    fn string(&mut self, raw: bool) -> Result<Done, Fail> {
        let mut out = String::new();
        let mut raw = raw;
        loop {
            let quote = self.bump().ok_or(Fail::Syntax)?;
            if self.mode == Mode::Json {
                self.json_string_body(&mut out)?;
                return Ok(self.string_done(out));
            }
            let triple = self.text[self.pos..].starts_with([quote, quote]);
            let triple = triple && {
                let mut q = [0u8; 4];
                let qs: &str = quote.encode_utf8(&mut q);
                self.text[self.pos..].starts_with(&*format!("{qs}{qs}"))
            };
            if triple {
                self.pos += 2;
            }
            self.python_string_body(&mut out, quote, triple, raw)?;
            // Adjacent literals concatenate.
            let save = self.pos;
            self.skip();
            let c = self.peek();
            match c {
                Some('"' | '\'') => raw = false,
                Some(c) if c.is_alphabetic() => {
                    let start = self.pos;
                    while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        self.bump();
                    }
                    let prefix = self.text[start..self.pos].to_ascii_lowercase();
                    if matches!(self.peek(), Some('"' | '\'')) {
                        match prefix.as_str() {
                            "u" => raw = false,
                            "r" => raw = true,
                            "b" | "br" | "rb" => return Err(Fail::Syntax),
                            _ => return Err(Fail::Syntax),
                        }
                    } else {
                        self.pos = save;
                        break;
                    }
                }
                _ => {
                    self.pos = save;
                    break;
                }
            }
        }
        Ok(self.string_done(out))
    }

    /// A finished string: `Bad` when an escape in it cannot be sent.
    fn string_done(&mut self, text: String) -> Done {
        let node = match self.bad_string.take() {
            Some(why) => Node::Bad(why),
            None => Node::Str(text),
        };
        Done {
            node,
            signed: false,
        }
    }

    fn hex(&mut self, n: usize) -> Option<u32> {
        let s = self.text.get(self.pos..self.pos + n)?;
        if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        self.pos += n;
        u32::from_str_radix(s, 16).ok()
    }

    fn json_string_body(&mut self, out: &mut String) -> Result<(), Fail> {
        loop {
            match self.bump().ok_or(Fail::Syntax)? {
                '"' => return Ok(()),
                '\\' => {
                    let c = match self.bump().ok_or(Fail::Syntax)? {
                        '"' => '"',
                        '\\' => '\\',
                        '/' => '/',
                        'b' => '\u{8}',
                        'f' => '\u{c}',
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        'u' => {
                            let u = self.hex(4).ok_or(Fail::Syntax)?;
                            self.code_point(u, true)?
                        }
                        _ => return Err(Fail::Syntax),
                    };
                    out.push(c);
                }
                c if (c as u32) < 0x20 => return Err(Fail::Syntax),
                c => out.push(c),
            }
        }
    }

    /// A `\u` code point; a high surrogate must be followed by `\u` and a low one.
    fn code_point(&mut self, u: u32, json: bool) -> Result<char, Fail> {
        if (0xD800..0xDC00).contains(&u) && self.text[self.pos..].starts_with("\\u") {
            let save = self.pos;
            self.pos += 2;
            match self.hex(4) {
                Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                    let c = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                    return char::from_u32(c).ok_or(Fail::Syntax);
                }
                None if !json => return Err(Fail::Syntax),
                _ => self.pos = save,
            }
        }
        Ok(char::from_u32(u).unwrap_or_else(|| {
            self.bad_string
                .get_or_insert("a lone surrogate (not valid Unicode)");
            '\u{FFFD}'
        }))
    }

    fn python_string_body(
        &mut self,
        out: &mut String,
        quote: char,
        triple: bool,
        raw: bool,
    ) -> Result<(), Fail> {
        loop {
            let c = self.bump().ok_or(Fail::Syntax)?;
            if c == quote {
                if !triple {
                    return Ok(());
                }
                if self.peek() == Some(quote) && self.peek_at(1) == Some(quote) {
                    self.pos += 2;
                    return Ok(());
                }
                out.push(c);
                continue;
            }
            if !triple && (c == '\n' || c == '\r') {
                return Err(Fail::Syntax);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let e = self.bump().ok_or(Fail::Syntax)?;
            if raw {
                out.push('\\');
                out.push(e);
                continue;
            }
            let decoded = match e {
                '\n' => continue,
                '\\' | '\'' | '"' => e,
                'a' => '\u{7}',
                'b' => '\u{8}',
                'f' => '\u{c}',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'v' => '\u{b}',
                '0'..='7' => {
                    let mut v = e as u32 - '0' as u32;
                    for _ in 0..2 {
                        match self.peek() {
                            Some(d @ '0'..='7') => {
                                v = v * 8 + (d as u32 - '0' as u32);
                                self.pos += 1;
                            }
                            _ => break,
                        }
                    }
                    char::from_u32(v).ok_or(Fail::Syntax)?
                }
                'x' => {
                    let v = self.hex(2).ok_or(Fail::Syntax)?;
                    char::from_u32(v).ok_or(Fail::Syntax)?
                }
                'u' => {
                    let v = self.hex(4).ok_or(Fail::Syntax)?;
                    self.code_point(v, false)?
                }
                'U' => {
                    let v = self.hex(8).ok_or(Fail::Syntax)?;
                    if v > 0x10FFFF {
                        return Err(Fail::Syntax);
                    }
                    self.code_point(v, false)?
                }
                'N' => {
                    // Character names need Unicode's name table: refused, not guessed.
                    if !self.eat('{') {
                        return Err(Fail::Syntax);
                    }
                    let end = self.text[self.pos..].find('}').ok_or(Fail::Syntax)?;
                    self.pos += end + 1;
                    self.bad_string
                        .get_or_insert("\\N{…} escapes are not supported");
                    '\u{FFFD}'
                }
                other => {
                    out.push('\\');
                    other
                }
            };
            out.push(decoded);
        }
    }
}

/// Digits in `radix` (ASCII) as canonical decimal text.
fn to_decimal(digits: &[u8], radix: u32) -> String {
    // Little-endian base 10^9 limbs.
    let mut limbs: Vec<u32> = vec![0];
    for &d in digits {
        let mut carry = char::from(d).to_digit(radix).unwrap_or(0) as u64;
        for limb in &mut limbs {
            let v = *limb as u64 * radix as u64 + carry;
            *limb = (v % 1_000_000_000) as u32;
            carry = v / 1_000_000_000;
        }
        if carry > 0 {
            limbs.push(carry as u32);
        }
    }
    let mut out = String::new();
    for (i, limb) in limbs.iter().rev().enumerate() {
        if i == 0 {
            let _ = write!(out, "{limb}");
        } else {
            let _ = write!(out, "{limb:09}");
        }
    }
    out
}

#[cfg(test)]
mod tests;
