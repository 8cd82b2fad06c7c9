//! SOQL for the subset a sync engine uses: a tokenizer, a recursive-descent parser, a binder that checks
//! names and literal types against the schema, and an evaluator over the in-memory org.

use std::cmp::Ordering;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::errors::ApiError;
use super::ids;
use super::org::{Org, Record};
use super::schema::{Kind, Schema};
use super::value::{Doc, Value};

// ---- errors ---------------------------------------------------------------------------------------

/// A query error with the character position it points at.
#[derive(Debug, Clone, PartialEq)]
pub struct SoqlError {
    pub code: &'static str,
    pub message: String,
    pub pos: Option<usize>,
}

impl SoqlError {
    fn malformed(pos: usize, message: impl Into<String>) -> Self {
        SoqlError {
            code: "MALFORMED_QUERY",
            message: message.into(),
            pos: Some(pos),
        }
    }

    fn at(code: &'static str, pos: usize, message: impl Into<String>) -> Self {
        SoqlError {
            code,
            message: message.into(),
            pos: Some(pos),
        }
    }

    /// Renders like Salesforce: the offending line, a caret under the column, `ERROR at Row:r:Column:c`.
    pub fn to_api_error(&self, query: &str) -> ApiError {
        let Some(pos) = self.pos else {
            return ApiError::bad_request(self.code, self.message.clone());
        };
        let chars: Vec<char> = query.chars().collect();
        let pos = pos.min(chars.len());
        let row = chars[..pos].iter().filter(|c| **c == '\n').count() + 1;
        let line_start = chars[..pos]
            .iter()
            .rposition(|c| *c == '\n')
            .map_or(0, |i| i + 1);
        let line_end = chars[pos..]
            .iter()
            .position(|c| *c == '\n')
            .map_or(chars.len(), |i| pos + i);
        let line: String = chars[line_start..line_end].iter().collect();
        let col = pos - line_start + 1;
        ApiError::bad_request(
            self.code,
            format!(
                "\n{line}\n{}^\nERROR at Row:{row}:Column:{col}\n{}",
                " ".repeat(col - 1),
                self.message
            ),
        )
    }
}

type Result<T> = std::result::Result<T, SoqlError>;

// ---- lexer ----------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    /// A quoted string: the raw text (escapes kept, for LIKE) and the decoded value.
    Str {
        raw: String,
        value: String,
    },
    Num(f64),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Comma,
    LParen,
    RParen,
    Dot,
    Colon,
    Op(CmpOp),
    Eof,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub pos: usize,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => s.clone(),
        Tok::Str { raw, .. } => format!("'{raw}'"),
        Tok::Num(n) => n.to_string(),
        Tok::Date(d) => d.to_string(),
        Tok::DateTime(t) => t.to_rfc3339(),
        Tok::Comma => ",".into(),
        Tok::LParen => "(".into(),
        Tok::RParen => ")".into(),
        Tok::Dot => ".".into(),
        Tok::Colon => ":".into(),
        Tok::Op(op) => match op {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Gt => ">",
            CmpOp::Le => "<=",
            CmpOp::Ge => ">=",
        }
        .into(),
        Tok::Eof => "<EOF>".into(),
    }
}

pub fn tokenize(q: &str) -> Result<Vec<Token>> {
    let chars: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let simple = match c {
            ',' => Some(Tok::Comma),
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '.' => Some(Tok::Dot),
            ':' => Some(Tok::Colon),
            '=' => Some(Tok::Op(CmpOp::Eq)),
            _ => None,
        };
        if let Some(tok) = simple {
            out.push(Token { tok, pos: start });
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).copied();
        match c {
            '!' if next == Some('=') => {
                out.push(Token {
                    tok: Tok::Op(CmpOp::Ne),
                    pos: start,
                });
                i += 2;
            }
            '<' | '>' => {
                let (op, len) = match (c, next) {
                    ('<', Some('=')) => (CmpOp::Le, 2),
                    ('<', Some('>')) => (CmpOp::Ne, 2),
                    ('>', Some('=')) => (CmpOp::Ge, 2),
                    ('<', _) => (CmpOp::Lt, 1),
                    _ => (CmpOp::Gt, 1),
                };
                out.push(Token {
                    tok: Tok::Op(op),
                    pos: start,
                });
                i += len;
            }
            '\'' => {
                let (tok, end) = string_literal(&chars, i)?;
                out.push(Token { tok, pos: start });
                i = end;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Ident(chars[start..i].iter().collect()),
                    pos: start,
                });
            }
            c if c.is_ascii_digit()
                || ((c == '-' || c == '+') && next.is_some_and(|n| n.is_ascii_digit())) =>
            {
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric()
                        || matches!(chars[i], ':' | '.' | '+' | '-'))
                {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                out.push(Token {
                    tok: number_or_date(&text, start)?,
                    pos: start,
                });
            }
            '"' => {
                return Err(SoqlError::malformed(
                    start,
                    "line 1:0 no viable alternative at character '\"'",
                ));
            }
            other => {
                return Err(SoqlError::malformed(
                    start,
                    format!("no viable alternative at character '{other}'"),
                ));
            }
        }
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: chars.len(),
    });
    Ok(out)
}

fn string_literal(chars: &[char], open: usize) -> Result<(Tok, usize)> {
    let mut raw = String::new();
    let mut value = String::new();
    let mut i = open + 1;
    while i < chars.len() {
        match chars[i] {
            '\'' => return Ok((Tok::Str { raw, value }, i + 1)),
            '\\' => {
                let Some(&e) = chars.get(i + 1) else {
                    break;
                };
                let decoded = match e {
                    '\'' | '"' | '\\' | '_' | '%' => e,
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    _ => {
                        return Err(SoqlError::malformed(
                            i,
                            format!(
                                "Invalid string literal '\\{e}'. Illegal character sequence '\\{e}' in string literal."
                            ),
                        ));
                    }
                };
                raw.push('\\');
                raw.push(e);
                value.push(decoded);
                i += 2;
            }
            c => {
                raw.push(c);
                value.push(c);
                i += 1;
            }
        }
    }
    Err(SoqlError::malformed(open, "unterminated string literal"))
}

fn number_or_date(text: &str, pos: usize) -> Result<Tok> {
    let is_date_shape = |s: &str| {
        let b = s.as_bytes();
        b.len() == 10 && b[4] == b'-' && b[7] == b'-'
    };
    if is_date_shape(text) {
        return NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Tok::Date)
            .map_err(|_| SoqlError::malformed(pos, format!("invalid date literal '{text}'")));
    }
    if text.len() > 10 && is_date_shape(&text[..10]) {
        return DateTime::parse_from_rfc3339(text)
            .map(|t| Tok::DateTime(t.with_timezone(&Utc)))
            .map_err(|_| {
                SoqlError::malformed(
                    pos,
                    format!(
                        "invalid dateTime literal '{text}': use YYYY-MM-DDThh:mm:ssZ or an offset like +hh:mm (send '+' as %2B)"
                    ),
                )
            });
    }
    text.parse::<f64>()
        .map(Tok::Num)
        .map_err(|_| SoqlError::malformed(pos, format!("unexpected token: '{text}'")))
}

// ---- syntax tree ----------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub struct FieldPath {
    pub parts: Vec<String>,
    pub pos: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DateKeyword {
    Today,
    Yesterday,
    Tomorrow,
    LastNDays(i64),
    NextNDays(i64),
    NDaysAgo(i64),
    ThisWeek,
    LastWeek,
    NextWeek,
    ThisMonth,
    LastMonth,
    NextMonth,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Num(f64),
    Str { raw: String, value: String },
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Keyword(DateKeyword),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Cmp {
        field: FieldPath,
        op: CmpOp,
        value: Literal,
        pos: usize,
    },
    In {
        field: FieldPath,
        negated: bool,
        values: Vec<(Literal, usize)>,
    },
    Like {
        field: FieldPath,
        pattern: Literal,
        pos: usize,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderKey {
    pub field: FieldPath,
    pub descending: bool,
    pub nulls_last: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    Count,
    Fields(Vec<FieldPath>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub select: Selection,
    pub from: String,
    pub from_pos: usize,
    pub filter: Option<Expr>,
    pub order: Vec<OrderKey>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

// ---- parser ---------------------------------------------------------------------------------------

/// Keywords that end a field list or clause and can't be field names in those positions.
const CLAUSE_WORDS: &[&str] = &[
    "FROM", "WHERE", "ORDER", "LIMIT", "OFFSET", "GROUP", "HAVING", "WITH", "FOR", "USING",
];
const UNSUPPORTED: &[&str] = &[
    "GROUP", "HAVING", "WITH", "FOR", "USING", "TYPEOF", "FIELDS", "INCLUDES", "EXCLUDES",
];

struct Parser {
    toks: Vec<Token>,
    i: usize,
    depth: usize,
}

pub fn parse(q: &str) -> Result<Query> {
    let mut p = Parser {
        toks: tokenize(q)?,
        i: 0,
        depth: 0,
    };
    let query = p.query()?;
    Ok(query)
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.toks[self.i.min(self.toks.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.i < self.toks.len() - 1 {
            self.i += 1;
        }
        t
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn unexpected(&self) -> SoqlError {
        let t = self.peek();
        if let Tok::Ident(s) = &t.tok
            && UNSUPPORTED.iter().any(|k| s.eq_ignore_ascii_case(k))
        {
            return SoqlError::malformed(
                t.pos,
                format!(
                    "{} is valid SOQL but not supported by the Salesforce emulator",
                    s.to_ascii_uppercase()
                ),
            );
        }
        SoqlError::malformed(t.pos, format!("unexpected token: '{}'", describe(&t.tok)))
    }

    fn expect_kw(&mut self, kw: &str) -> Result<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn expect(&mut self, tok: Tok) -> Result<()> {
        if self.peek().tok == tok {
            self.bump();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn query(&mut self) -> Result<Query> {
        self.expect_kw("SELECT")?;
        let select = self.select_list()?;
        self.expect_kw("FROM")?;
        let from_tok = self.peek().clone();
        let Tok::Ident(from) = from_tok.tok else {
            return Err(self.unexpected());
        };
        self.bump();
        if self.is_kw("WHERE")
            || self.is_kw("ORDER")
            || self.is_kw("LIMIT")
            || self.is_kw("OFFSET")
            || self.peek().tok == Tok::Eof
        {
            // no alias
        } else if matches!(self.peek().tok, Tok::Ident(_)) && !self.is_unsupported() {
            return Err(SoqlError::malformed(
                self.peek().pos,
                "object aliases are not supported by the Salesforce emulator",
            ));
        }
        let filter = if self.eat_kw("WHERE") {
            Some(self.condition()?)
        } else {
            None
        };
        let mut order = Vec::new();
        if self.eat_kw("ORDER") {
            self.expect_kw("BY")?;
            loop {
                order.push(self.order_key()?);
                if self.peek().tok != Tok::Comma {
                    break;
                }
                self.bump();
            }
        }
        let limit = if self.eat_kw("LIMIT") {
            Some(self.count_value()?)
        } else {
            None
        };
        let offset = if self.eat_kw("OFFSET") {
            Some(self.count_value()?)
        } else {
            None
        };
        if self.peek().tok != Tok::Eof {
            return Err(self.unexpected());
        }
        Ok(Query {
            select,
            from,
            from_pos: from_tok.pos,
            filter,
            order,
            limit,
            offset,
        })
    }

    fn is_unsupported(&self) -> bool {
        matches!(&self.peek().tok, Tok::Ident(s) if UNSUPPORTED.iter().any(|k| s.eq_ignore_ascii_case(k)))
    }

    fn count_value(&mut self) -> Result<u64> {
        match self.peek().tok {
            Tok::Num(n) if n >= 0.0 && n.fract() == 0.0 => {
                self.bump();
                Ok(n as u64)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn select_list(&mut self) -> Result<Selection> {
        if self.is_kw("COUNT")
            && self
                .toks
                .get(self.i + 1)
                .is_some_and(|t| t.tok == Tok::LParen)
        {
            let pos = self.peek().pos;
            self.bump();
            self.bump();
            if self.peek().tok != Tok::RParen {
                return Err(SoqlError::malformed(
                    pos,
                    "COUNT(fieldName) aggregates are not supported by the Salesforce emulator; use COUNT()",
                ));
            }
            self.bump();
            if self.peek().tok == Tok::Comma {
                return Err(self.unexpected());
            }
            return Ok(Selection::Count);
        }
        let mut fields = Vec::new();
        loop {
            if self.peek().tok == Tok::LParen {
                return Err(SoqlError::malformed(
                    self.peek().pos,
                    "relationship subqueries are not supported by the Salesforce emulator",
                ));
            }
            if fields.is_empty() && self.is_kw("FROM") {
                return Err(self.unexpected());
            }
            let f = self.field_path()?;
            if let Some(dup) = fields
                .iter()
                .find(|x: &&FieldPath| x.parts.join(".").eq_ignore_ascii_case(&f.parts.join(".")))
            {
                return Err(SoqlError::malformed(
                    f.pos,
                    format!("duplicate field selected: {}", dup.parts.join(".")),
                ));
            }
            fields.push(f);
            if self.peek().tok != Tok::Comma {
                break;
            }
            self.bump();
        }
        Ok(Selection::Fields(fields))
    }

    fn field_path(&mut self) -> Result<FieldPath> {
        let t = self.peek().clone();
        let Tok::Ident(first) = &t.tok else {
            return Err(self.unexpected());
        };
        if CLAUSE_WORDS.iter().any(|k| first.eq_ignore_ascii_case(k)) || self.is_unsupported() {
            return Err(self.unexpected());
        }
        self.bump();
        let mut parts = vec![first.clone()];
        while self.peek().tok == Tok::Dot {
            self.bump();
            let Tok::Ident(s) = self.peek().tok.clone() else {
                return Err(self.unexpected());
            };
            self.bump();
            parts.push(s);
        }
        Ok(FieldPath { parts, pos: t.pos })
    }

    /// A condition: terms joined by AND or OR. Mixing both without parentheses is an error, as in SOQL.
    fn condition(&mut self) -> Result<Expr> {
        let first = self.unary()?;
        let mut terms = vec![first];
        let mut joiner: Option<&'static str> = None;
        loop {
            let kw = if self.is_kw("AND") {
                "AND"
            } else if self.is_kw("OR") {
                "OR"
            } else {
                break;
            };
            if joiner.is_some_and(|j| j != kw) {
                return Err(self.unexpected());
            }
            joiner = Some(kw);
            self.bump();
            terms.push(self.unary()?);
        }
        Ok(match joiner {
            None => terms.remove(0),
            Some("AND") => Expr::And(terms),
            Some(_) => Expr::Or(terms),
        })
    }

    fn unary(&mut self) -> Result<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SoqlError::malformed(
                self.peek().pos,
                "the condition is nested too deeply",
            ));
        }
        let result = if self.eat_kw("NOT") {
            self.unary().map(|e| Expr::Not(Box::new(e)))
        } else if self.peek().tok == Tok::LParen {
            self.bump();
            self.condition()
                .and_then(|inner| self.expect(Tok::RParen).map(|_| inner))
        } else {
            self.predicate()
        };
        self.depth -= 1;
        result
    }

    fn predicate(&mut self) -> Result<Expr> {
        let field = self.field_path()?;
        let pos = self.peek().pos;
        if let Tok::Op(op) = self.peek().tok {
            self.bump();
            let value = self.literal()?;
            return Ok(Expr::Cmp {
                field,
                op,
                value,
                pos,
            });
        }
        let negated = self.eat_kw("NOT");
        if self.eat_kw("IN") {
            self.expect(Tok::LParen)?;
            if self.is_kw("SELECT") {
                return Err(SoqlError::malformed(
                    self.peek().pos,
                    "semi-join subqueries are not supported by the Salesforce emulator",
                ));
            }
            let mut values = Vec::new();
            loop {
                let p = self.peek().pos;
                values.push((self.literal()?, p));
                if self.peek().tok == Tok::Comma {
                    self.bump();
                    continue;
                }
                break;
            }
            self.expect(Tok::RParen)?;
            return Ok(Expr::In {
                field,
                negated,
                values,
            });
        }
        if negated {
            return Err(self.unexpected());
        }
        if self.eat_kw("LIKE") {
            let pattern = self.literal()?;
            return Ok(Expr::Like {
                field,
                pattern,
                pos,
            });
        }
        Err(self.unexpected())
    }

    fn literal(&mut self) -> Result<Literal> {
        let t = self.peek().clone();
        let lit = match t.tok {
            Tok::Str { raw, value } => Literal::Str { raw, value },
            Tok::Num(n) => Literal::Num(n),
            Tok::Date(d) => Literal::Date(d),
            Tok::DateTime(d) => Literal::DateTime(d),
            Tok::Ident(word) => {
                let upper = word.to_ascii_uppercase();
                match upper.as_str() {
                    "NULL" => Literal::Null,
                    "TRUE" => Literal::Bool(true),
                    "FALSE" => Literal::Bool(false),
                    "TODAY" => Literal::Keyword(DateKeyword::Today),
                    "YESTERDAY" => Literal::Keyword(DateKeyword::Yesterday),
                    "TOMORROW" => Literal::Keyword(DateKeyword::Tomorrow),
                    "THIS_WEEK" => Literal::Keyword(DateKeyword::ThisWeek),
                    "LAST_WEEK" => Literal::Keyword(DateKeyword::LastWeek),
                    "NEXT_WEEK" => Literal::Keyword(DateKeyword::NextWeek),
                    "THIS_MONTH" => Literal::Keyword(DateKeyword::ThisMonth),
                    "LAST_MONTH" => Literal::Keyword(DateKeyword::LastMonth),
                    "NEXT_MONTH" => Literal::Keyword(DateKeyword::NextMonth),
                    "LAST_N_DAYS" | "NEXT_N_DAYS" | "N_DAYS_AGO" => {
                        self.bump();
                        self.expect(Tok::Colon)?;
                        let n = self.count_value()? as i64;
                        return Ok(Literal::Keyword(match upper.as_str() {
                            "LAST_N_DAYS" => DateKeyword::LastNDays(n),
                            "NEXT_N_DAYS" => DateKeyword::NextNDays(n),
                            _ => DateKeyword::NDaysAgo(n),
                        }));
                    }
                    _ => return Err(self.unexpected()),
                }
            }
            Tok::Colon => {
                return Err(SoqlError::malformed(
                    t.pos,
                    "bind variables are only valid in Apex, not in the REST API",
                ));
            }
            _ => return Err(self.unexpected()),
        };
        self.bump();
        Ok(lit)
    }

    fn order_key(&mut self) -> Result<OrderKey> {
        let field = self.field_path()?;
        let descending = if self.eat_kw("DESC") {
            true
        } else {
            self.eat_kw("ASC");
            false
        };
        let nulls_last = if self.eat_kw("NULLS") {
            if self.eat_kw("LAST") {
                true
            } else {
                self.expect_kw("FIRST")?;
                false
            }
        } else {
            descending
        };
        Ok(OrderKey {
            field,
            descending,
            nulls_last,
        })
    }
}

// ---- binding --------------------------------------------------------------------------------------

/// One relationship hop: the reference field to follow and the name it renders under.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    pub field: usize,
    pub name: String,
}

/// A field path resolved against the schema. The leaf is looked up by name on whatever object the hops
/// reach, which is how polymorphic relationships (Who, What) work.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    pub hops: Vec<Hop>,
    pub leaf: String,
    pub kind: Kind,
    pub filterable: bool,
    pub sortable: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Null,
    Bool(bool),
    Num(f64),
    Text(String),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    /// A date literal keyword resolved to a half-open range.
    DateRange(NaiveDate, NaiveDate),
    DateTimeRange(DateTime<Utc>, DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Cmp(Bound, CmpOp, Operand),
    In(Bound, bool, Vec<Operand>),
    Like(Bound, Vec<LikePart>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum LikePart {
    Lit(char),
    One,
    Any,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub object: usize,
    pub count: bool,
    pub select: Vec<Bound>,
    pub filter: Option<Filter>,
    pub order: Vec<(Bound, bool, bool)>,
    pub limit: Option<u64>,
    pub offset: u64,
}

/// Polymorphic relationships expose only these fields (the "Name" pseudo-object).
const POLY_FIELDS: &[(&str, Kind)] = &[
    ("Id", Kind::Id),
    ("Name", Kind::String),
    ("Type", Kind::String),
];

pub const MAX_OFFSET: u64 = 2000;
const MAX_N_DAYS: i64 = 100_000;
/// Nesting limit for parentheses and NOT, so hostile input can't exhaust the stack.
const MAX_DEPTH: usize = 64;

fn no_such_column(pos: usize, name: &str, entity: &str) -> SoqlError {
    SoqlError::at(
        "INVALID_FIELD",
        pos,
        format!(
            "No such column '{name}' on entity '{entity}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
        ),
    )
}

fn bind_path(schema: &Schema, obj: usize, path: &FieldPath) -> Result<Bound> {
    let mut current = Some(obj);
    let mut hops = Vec::new();
    let (leaf, rels) = path
        .parts
        .split_last()
        .ok_or_else(|| SoqlError::malformed(path.pos, "empty field"))?;
    for rel in rels {
        let Some(o) = current else {
            return Err(SoqlError::at(
                "INVALID_FIELD",
                path.pos,
                format!(
                    "Didn't understand relationship '{rel}' in field path. Polymorphic relationships only expose Id, Name and Type here."
                ),
            ));
        };
        let def = &schema.objects[o];
        let Some(fi) = def.relationship(rel) else {
            return Err(SoqlError::at(
                "INVALID_FIELD",
                path.pos,
                format!(
                    "Didn't understand relationship '{rel}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
                ),
            ));
        };
        let fd = &def.fields[fi];
        hops.push(Hop {
            field: fi,
            name: fd.relationship_name.clone().unwrap_or_default(),
        });
        current = if fd.is_polymorphic() {
            None
        } else {
            fd.reference_to.first().and_then(|t| schema.object_index(t))
        };
    }
    match current {
        Some(o) => {
            let def = &schema.objects[o];
            let fd = def
                .field(leaf)
                .ok_or_else(|| no_such_column(path.pos, leaf, &def.name))?;
            Ok(Bound {
                hops,
                leaf: fd.name.clone(),
                kind: fd.kind,
                filterable: fd.filterable,
                sortable: fd.sortable,
            })
        }
        None => {
            let (name, kind) = POLY_FIELDS
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(leaf))
                .ok_or_else(|| no_such_column(path.pos, leaf, "Name"))?;
            Ok(Bound {
                hops,
                leaf: name.to_string(),
                kind: *kind,
                filterable: true,
                sortable: true,
            })
        }
    }
}

/// Everything binding needs to resolve date keywords: "now" and the running user's zone.
#[derive(Debug, Clone, Copy)]
pub struct Env {
    pub now: DateTime<Utc>,
    pub tz: Tz,
}

fn keyword_range(k: &DateKeyword, env: Env) -> (NaiveDate, NaiveDate) {
    let today = env.now.with_timezone(&env.tz).date_naive();
    // N is bounded so date arithmetic can't overflow on absurd input.
    let d = |n: i64| Duration::days(n.clamp(-MAX_N_DAYS, MAX_N_DAYS));
    let week_start = today - d(today.weekday().num_days_from_sunday() as i64);
    let month_start = today.with_day(1).unwrap_or(today);
    let add_months = |m: i32| {
        let total = month_start.year() * 12 + month_start.month0() as i32 + m;
        NaiveDate::from_ymd_opt(total.div_euclid(12), total.rem_euclid(12) as u32 + 1, 1)
            .unwrap_or(month_start)
    };
    match k {
        DateKeyword::Today => (today, today + d(1)),
        DateKeyword::Yesterday => (today - d(1), today),
        DateKeyword::Tomorrow => (today + d(1), today + d(2)),
        DateKeyword::LastNDays(n) => (today - d(*n), today + d(1)),
        DateKeyword::NextNDays(n) => (today + d(1), today + d(1 + n)),
        DateKeyword::NDaysAgo(n) => (today - d(*n), today - d(n - 1)),
        DateKeyword::ThisWeek => (week_start, week_start + d(7)),
        DateKeyword::LastWeek => (week_start - d(7), week_start),
        DateKeyword::NextWeek => (week_start + d(7), week_start + d(14)),
        DateKeyword::ThisMonth => (month_start, add_months(1)),
        DateKeyword::LastMonth => (add_months(-1), month_start),
        DateKeyword::NextMonth => (add_months(1), add_months(2)),
    }
}

fn local_midnight(tz: Tz, d: NaiveDate) -> DateTime<Utc> {
    tz.from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN)))
}

fn type_mismatch(pos: usize, field: &str, kind: Kind) -> SoqlError {
    let quoted = if kind.is_textual() {
        "should be enclosed in quotes"
    } else {
        "should not be enclosed in quotes"
    };
    SoqlError::at(
        "INVALID_FIELD",
        pos,
        format!(
            "value of filter criterion for field '{field}' must be of type {} and {quoted}",
            kind.soql_type_name()
        ),
    )
}

fn bind_operand(b: &Bound, lit: &Literal, pos: usize, env: Env) -> Result<Operand> {
    let field = b.leaf.as_str();
    let mismatch = || type_mismatch(pos, field, b.kind);
    Ok(match (lit, b.kind) {
        (Literal::Null, _) => Operand::Null,
        (Literal::Str { value, .. }, Kind::Id | Kind::Reference) => match ids::to18(value) {
            Some(id) => Operand::Text(id),
            None => {
                return Err(SoqlError::at(
                    "INVALID_QUERY_FILTER_OPERATOR",
                    pos,
                    format!("invalid ID field: {value}"),
                ));
            }
        },
        (Literal::Str { value, .. }, k) if k.is_textual() => Operand::Text(value.clone()),
        (Literal::Bool(v), Kind::Boolean) => Operand::Bool(*v),
        (Literal::Num(n), Kind::Int | Kind::Double) => Operand::Num(*n),
        (Literal::Date(d), Kind::Date) => Operand::Date(*d),
        (Literal::DateTime(t), Kind::DateTime) => Operand::DateTime(*t),
        (Literal::Keyword(k), Kind::Date) => {
            let (a, z) = keyword_range(k, env);
            Operand::DateRange(a, z)
        }
        (Literal::Keyword(k), Kind::DateTime) => {
            let (a, z) = keyword_range(k, env);
            Operand::DateTimeRange(local_midnight(env.tz, a), local_midnight(env.tz, z))
        }
        _ => return Err(mismatch()),
    })
}

fn like_parts(raw: &str) -> Vec<LikePart> {
    let mut out = Vec::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(e) = chars.next() {
                    out.push(LikePart::Lit(match e {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        other => other,
                    }));
                }
            }
            '%' => out.push(LikePart::Any),
            '_' => out.push(LikePart::One),
            other => out.push(LikePart::Lit(other)),
        }
    }
    out
}

fn bind_filter(schema: &Schema, obj: usize, e: &Expr, env: Env) -> Result<Filter> {
    let filterable = |b: Bound, pos: usize| -> Result<Bound> {
        if b.filterable {
            Ok(b)
        } else {
            Err(SoqlError::at(
                "INVALID_FIELD",
                pos,
                format!("field '{}' can not be filtered in a query call", b.leaf),
            ))
        }
    };
    Ok(match e {
        Expr::And(v) => Filter::And(
            v.iter()
                .map(|x| bind_filter(schema, obj, x, env))
                .collect::<Result<_>>()?,
        ),
        Expr::Or(v) => Filter::Or(
            v.iter()
                .map(|x| bind_filter(schema, obj, x, env))
                .collect::<Result<_>>()?,
        ),
        Expr::Not(x) => Filter::Not(Box::new(bind_filter(schema, obj, x, env)?)),
        Expr::Cmp {
            field,
            op,
            value,
            pos,
        } => {
            let b = filterable(bind_path(schema, obj, field)?, field.pos)?;
            let operand = bind_operand(&b, value, *pos + 1, env)?;
            if operand == Operand::Null && !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                return Err(SoqlError::malformed(
                    *pos,
                    "null can only be compared with = or !=",
                ));
            }
            if matches!(b.kind, Kind::Boolean) && !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                return Err(SoqlError::at(
                    "INVALID_QUERY_FILTER_OPERATOR",
                    *pos,
                    format!("invalid operator on boolean field: {}", b.leaf),
                ));
            }
            Filter::Cmp(b, *op, operand)
        }
        Expr::In {
            field,
            negated,
            values,
        } => {
            let b = filterable(bind_path(schema, obj, field)?, field.pos)?;
            let ops = values
                .iter()
                .map(|(lit, pos)| bind_operand(&b, lit, *pos, env))
                .collect::<Result<Vec<_>>>()?;
            Filter::In(b, *negated, ops)
        }
        Expr::Like {
            field,
            pattern,
            pos,
        } => {
            let b = filterable(bind_path(schema, obj, field)?, field.pos)?;
            if !b.kind.is_textual() || matches!(b.kind, Kind::Id | Kind::Reference) {
                return Err(SoqlError::at(
                    "INVALID_QUERY_FILTER_OPERATOR",
                    *pos,
                    format!(
                        "invalid operator on {} field: {}",
                        b.kind.soql_type_name(),
                        b.leaf
                    ),
                ));
            }
            let Literal::Str { raw, .. } = pattern else {
                return Err(type_mismatch(*pos, &b.leaf, b.kind));
            };
            Filter::Like(b, like_parts(raw))
        }
    })
}

/// Checks a parsed query against the schema and resolves literals.
pub fn bind(schema: &Schema, q: &Query, env: Env) -> Result<Plan> {
    let object = schema.object_index(&q.from).ok_or_else(|| {
        SoqlError::at(
            "INVALID_TYPE",
            q.from_pos,
            format!(
                "sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
                q.from
            ),
        )
    })?;
    let (count, select) = match &q.select {
        Selection::Count => (true, Vec::new()),
        Selection::Fields(fields) => (
            false,
            fields
                .iter()
                .map(|f| bind_path(schema, object, f))
                .collect::<Result<Vec<_>>>()?,
        ),
    };
    let filter = q
        .filter
        .as_ref()
        .map(|e| bind_filter(schema, object, e, env))
        .transpose()?;
    let order = q
        .order
        .iter()
        .map(|k| {
            let b = bind_path(schema, object, &k.field)?;
            if !b.sortable {
                return Err(SoqlError::at(
                    "INVALID_FIELD",
                    k.field.pos,
                    format!("field '{}' can not be sorted in a query call", b.leaf),
                ));
            }
            Ok((b, k.descending, k.nulls_last))
        })
        .collect::<Result<Vec<_>>>()?;
    let offset = q.offset.unwrap_or(0);
    if offset > MAX_OFFSET {
        return Err(SoqlError {
            code: "NUMBER_OUTSIDE_VALID_RANGE",
            message: format!("Maximum SOQL offset allowed is {MAX_OFFSET}"),
            pos: None,
        });
    }
    Ok(Plan {
        object,
        count,
        select,
        filter,
        order,
        limit: q.limit,
        offset,
    })
}

// ---- evaluation -----------------------------------------------------------------------------------

fn follow<'a>(org: &'a Org, rec: &'a Record, hops: &[Hop]) -> Option<&'a Record> {
    let mut cur = rec;
    for h in hops {
        let id = cur.values.get(h.field)?.as_text()?;
        cur = org.live(id)?;
    }
    Some(cur)
}

fn leaf_value(org: &Org, rec: &Record, leaf: &str, now: DateTime<Utc>) -> Value {
    let def = org.def(rec.object);
    match def.field_index(leaf) {
        Some(i) => org.value_of(rec, i, now),
        None if leaf == "Type" => Value::Text(def.name.clone()),
        None => Value::Null,
    }
}

pub fn value(org: &Org, rec: &Record, b: &Bound, now: DateTime<Utc>) -> Value {
    match follow(org, rec, &b.hops) {
        Some(target) => leaf_value(org, target, &b.leaf, now),
        None => Value::Null,
    }
}

fn text_eq(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// `=`-style equality with Salesforce semantics: text is case-insensitive, null equals only null.
fn equals(v: &Value, o: &Operand) -> bool {
    match (v, o) {
        (Value::Null, Operand::Null) => true,
        (_, Operand::Null) | (Value::Null, _) => false,
        (Value::Text(a), Operand::Text(b)) => text_eq(a, b),
        (Value::Bool(a), Operand::Bool(b)) => a == b,
        (Value::Int(a), Operand::Num(b)) => (*a as f64) == *b,
        (Value::Double(a), Operand::Num(b)) => a == b,
        (Value::Date(a), Operand::Date(b)) => a == b,
        (Value::DateTime(a), Operand::DateTime(b)) => a == b,
        (Value::Date(a), Operand::DateRange(x, y)) => a >= x && a < y,
        (Value::DateTime(a), Operand::DateTimeRange(x, y)) => a >= x && a < y,
        _ => false,
    }
}

/// Ordering comparison; `None` when not comparable (null or mismatched), which makes the predicate false.
fn compare(v: &Value, o: &Operand, op: CmpOp) -> Option<bool> {
    let ord = |a: Ordering| match op {
        CmpOp::Lt => a == Ordering::Less,
        CmpOp::Le => a != Ordering::Greater,
        CmpOp::Gt => a == Ordering::Greater,
        CmpOp::Ge => a != Ordering::Less,
        CmpOp::Eq | CmpOp::Ne => a == Ordering::Equal,
    };
    let range = |inside_lo: bool, above_hi: bool, below_lo: bool| match op {
        CmpOp::Lt => below_lo,
        CmpOp::Le => !above_hi,
        CmpOp::Gt => above_hi,
        CmpOp::Ge => inside_lo,
        _ => false,
    };
    Some(match (v, o) {
        (Value::Text(a), Operand::Text(b)) => ord(a.to_lowercase().cmp(&b.to_lowercase())),
        (Value::Int(a), Operand::Num(b)) => ord((*a as f64).partial_cmp(b)?),
        (Value::Double(a), Operand::Num(b)) => ord(a.partial_cmp(b)?),
        (Value::Date(a), Operand::Date(b)) => ord(a.cmp(b)),
        (Value::DateTime(a), Operand::DateTime(b)) => ord(a.cmp(b)),
        (Value::Date(a), Operand::DateRange(x, y)) => range(a >= x, a >= y, a < x),
        (Value::DateTime(a), Operand::DateTimeRange(x, y)) => range(a >= x, a >= y, a < x),
        _ => return None,
    })
}

fn like(text: &str, pattern: &[LikePart]) -> bool {
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let p: Vec<LikePart> = pattern
        .iter()
        .map(|x| match x {
            LikePart::Lit(c) => LikePart::Lit(c.to_lowercase().next().unwrap_or(*c)),
            other => other.clone(),
        })
        .collect();
    // Classic two-pointer wildcard match with backtracking to the last '%'.
    let (mut ti, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(LikePart::Any) => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(LikePart::One) => {
                ti += 1;
                pi += 1;
            }
            Some(LikePart::Lit(c)) if *c == t[ti] => {
                ti += 1;
                pi += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|x| *x == LikePart::Any)
}

pub fn matches(org: &Org, rec: &Record, f: &Filter, now: DateTime<Utc>) -> bool {
    match f {
        Filter::And(v) => v.iter().all(|x| matches(org, rec, x, now)),
        Filter::Or(v) => v.iter().any(|x| matches(org, rec, x, now)),
        Filter::Not(x) => !matches(org, rec, x, now),
        Filter::Cmp(b, op, o) => {
            let v = value(org, rec, b, now);
            match op {
                CmpOp::Eq => equals(&v, o),
                // SOQL's != includes nulls (unlike SQL).
                CmpOp::Ne => !equals(&v, o),
                _ => compare(&v, o, *op).unwrap_or(false),
            }
        }
        Filter::In(b, negated, list) => {
            let v = value(org, rec, b, now);
            list.iter().any(|o| equals(&v, o)) != *negated
        }
        Filter::Like(b, pattern) => match value(org, rec, b, now) {
            Value::Text(s) => like(&s, pattern),
            _ => false,
        },
    }
}

/// Which rows a query sees: `query` hides the recycle bin and archived activities, `queryAll` doesn't.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Live,
    All,
}

/// Runs a plan: filter, sort, offset and limit. Returns the matching records in result order.
pub fn execute<'a>(org: &'a Org, plan: &Plan, scope: Scope, now: DateTime<Utc>) -> Vec<&'a Record> {
    let mut rows: Vec<&Record> = org
        .records(plan.object)
        .filter(|r| scope == Scope::All || (r.deleted_at.is_none() && !org.is_archived(r, now)))
        .filter(|r| plan.filter.as_ref().is_none_or(|f| matches(org, r, f, now)))
        .collect();
    if !plan.order.is_empty() {
        let keyed: Vec<(Vec<Value>, &Record)> = rows
            .into_iter()
            .map(|r| {
                (
                    plan.order
                        .iter()
                        .map(|(b, _, _)| value(org, r, b, now))
                        .collect(),
                    r,
                )
            })
            .collect();
        let mut keyed = keyed;
        keyed.sort_by(|(a, _), (b, _)| {
            for (i, (_, desc, nulls_last)) in plan.order.iter().enumerate() {
                let (x, y) = (&a[i], &b[i]);
                let o = match (x.is_null(), y.is_null()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => {
                        if *nulls_last {
                            Ordering::Greater
                        } else {
                            Ordering::Less
                        }
                    }
                    (false, true) => {
                        if *nulls_last {
                            Ordering::Less
                        } else {
                            Ordering::Greater
                        }
                    }
                    (false, false) => {
                        let o = x.sort_cmp(y);
                        if *desc { o.reverse() } else { o }
                    }
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
        rows = keyed.into_iter().map(|(_, r)| r).collect();
    }
    let rows = rows.into_iter().skip(plan.offset as usize);
    match plan.limit {
        Some(l) => rows.take(l as usize).collect(),
        None => rows.collect(),
    }
}

/// Renders one result row: `attributes`, then the selected fields in SELECT order, relationship fields
/// nested under their relationship name (or `null` when the reference is empty).
pub fn project(org: &Org, rec: &Record, plan: &Plan, version: &str, now: DateTime<Utc>) -> Doc {
    let mut doc = Doc::object().with("attributes", org.attributes(rec.object, &rec.id, version));
    for b in &plan.select {
        insert_path(&mut doc, org, rec, &b.hops, &b.leaf, version, now);
    }
    doc
}

fn insert_path(
    doc: &mut Doc,
    org: &Org,
    rec: &Record,
    hops: &[Hop],
    leaf: &str,
    version: &str,
    now: DateTime<Utc>,
) {
    let Some((hop, rest)) = hops.split_first() else {
        if doc.get(leaf).is_none() {
            doc.push(leaf, leaf_value(org, rec, leaf, now).to_json());
        }
        return;
    };
    let target = rec
        .values
        .get(hop.field)
        .and_then(Value::as_text)
        .and_then(|id| org.live(id));
    match (doc.get_mut(&hop.name), target) {
        (Some(nested @ Doc::Object(_)), Some(t)) => {
            insert_path(nested, org, t, rest, leaf, version, now)
        }
        (Some(_), _) => {}
        (None, None) => doc.push(&hop.name, Doc::Scalar(serde_json::Value::Null)),
        (None, Some(t)) => {
            let mut nested =
                Doc::object().with("attributes", org.attributes(t.object, &t.id, version));
            insert_path(&mut nested, org, t, rest, leaf, version, now);
            doc.push(&hop.name, nested);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(q: &str) -> SoqlError {
        match parse(q) {
            Ok(parsed) => panic!("expected an error for {q:?}, got {parsed:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn parses_the_sync_engine_subset() {
        let q = parse(
            "SELECT Id, Account.Name, Owner.Email FROM Contact WHERE (LastName LIKE 'Sm_th%' OR Email != null) \
             AND SystemModstamp > 2024-01-01T00:00:00Z AND Id NOT IN ('003Kd0000000001', '003Kd0000000002') \
             ORDER BY LastName ASC NULLS LAST, CreatedDate DESC LIMIT 10 OFFSET 5",
        )
        .expect("valid");
        assert_eq!(q.from, "Contact");
        assert_eq!(q.limit, Some(10));
        assert_eq!(q.offset, Some(5));
        assert_eq!(q.order.len(), 2);
        assert!(q.order[0].nulls_last && !q.order[0].descending);
        assert!(q.order[1].descending && q.order[1].nulls_last);
        let Selection::Fields(f) = &q.select else {
            panic!("fields")
        };
        assert_eq!(f[1].parts, ["Account", "Name"]);
        assert!(matches!(q.filter, Some(Expr::And(ref v)) if v.len() == 3));
        assert_eq!(
            parse("select count() from Task").expect("count").select,
            Selection::Count
        );
    }

    #[test]
    fn datetime_offsets_and_date_keywords() {
        let q = parse("SELECT Id FROM Event WHERE StartDateTime >= 2024-05-06T10:00:00+02:00 AND ActivityDate = LAST_N_DAYS:30")
            .expect("valid");
        let Some(Expr::And(v)) = q.filter else {
            panic!("and")
        };
        assert_eq!(
            v[0],
            Expr::Cmp {
                field: FieldPath {
                    parts: vec!["StartDateTime".into()],
                    pos: 27
                },
                op: CmpOp::Ge,
                value: Literal::DateTime(
                    Utc.with_ymd_and_hms(2024, 5, 6, 8, 0, 0)
                        .single()
                        .expect("t")
                ),
                pos: 41,
            }
        );
        assert!(matches!(
            v[1],
            Expr::Cmp {
                value: Literal::Keyword(DateKeyword::LastNDays(30)),
                ..
            }
        ));
    }

    #[test]
    fn broken_queries_are_malformed_with_positions() {
        let cases = [
            ("", 0),
            ("SELECT", 6),
            ("SELECT Id", 9),
            ("SELECT Id FROM", 14),
            ("SELECT FROM Contact", 7),
            ("SELECT Id,, Name FROM Contact", 10),
            ("SELECT Id FROM Contact WHERE", 28),
            ("SELECT Id FROM Contact WHERE Name = ", 36),
            ("SELECT Id FROM Contact WHERE Name = 'x", 36),
            ("SELECT Id FROM Contact WHERE Name = \"x\"", 36),
            ("SELECT Id FROM Contact WHERE A = 1 AND B = 2 OR C = 3", 45),
            ("SELECT Id FROM Contact WHERE (A = 1", 35),
            ("SELECT Id FROM Contact LIMIT x", 29),
            ("SELECT Id FROM Contact LIMIT -1", 29),
            ("SELECT Id FROM Contact ORDER Name", 29),
            ("SELECT Id FROM Contact WHERE Name = foo", 36),
            (
                "SELECT Id FROM Contact WHERE CreatedDate > 2024-01-01T00:00:00 01:00",
                43,
            ),
            ("SELECT Id FROM Contact WHERE CreatedDate > 2024-13-01", 43),
            ("SELECT Id FROM Contact WHERE Name = 'a\\q'", 38),
            ("SELECT Id FROM Contact WHERE Name = :name", 36),
            ("SELECT Id FROM Contact GROUP BY Name", 23),
            ("SELECT Id, (SELECT Id FROM Cases) FROM Account", 11),
            (
                "SELECT Id FROM Contact WHERE Id IN (SELECT WhoId FROM Task)",
                36,
            ),
            ("SELECT Id, Id FROM Contact", 11),
            ("SELECT COUNT(Id) FROM Contact", 7),
            ("SELECT Id FROM Contact c", 23),
            ("SELECT Id FROM Contact WHERE Name # 'x'", 34),
            ("SELECT Id FROM Contact WHERE Name NOT 'x'", 38),
        ];
        for (q, pos) in cases {
            let e = err(q);
            assert_eq!(e.code, "MALFORMED_QUERY", "{q:?}: {e:?}");
            assert_eq!(e.pos, Some(pos), "{q:?}: {e:?}");
        }
    }

    #[test]
    fn error_message_points_at_the_column() {
        let q = "SELECT Id FROM Contact WHERE";
        let api = err(q).to_api_error(q);
        assert_eq!(api.code, "MALFORMED_QUERY");
        assert_eq!(
            api.message,
            "\nSELECT Id FROM Contact WHERE\n                            ^\nERROR at Row:1:Column:29\nunexpected token: '<EOF>'"
        );
    }

    #[test]
    fn like_matching() {
        assert!(like("Smith", &like_parts("sm_th")));
        assert!(like("Smithers", &like_parts("Sm%")));
        assert!(like("a%b", &like_parts("a\\%b")));
        assert!(!like("axb", &like_parts("a\\%b")));
        assert!(like("", &like_parts("%")));
        assert!(!like("abc", &like_parts("%d%")));
        assert!(like("xxabcxx", &like_parts("%abc%")));
    }
}
