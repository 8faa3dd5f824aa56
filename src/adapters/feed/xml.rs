//! The *outline* of an XML feed: its root element and the `xml:base` of each
//! child of the root, found by one strict pass over the whole document.
//!
//! The `rss` and `atom_syndication` crates are lenient: they pass an undefined
//! entity through as text, stop quietly at a truncated end and ignore what
//! follows the root. A feed that is not well-formed XML is a broken feed, and a
//! reader should hear so with the line where it broke rather than get half of
//! it, so this pass checks well-formedness first and the crates only ever see
//! documents that passed. It also bounds the nesting depth, since the crates
//! read nested extension elements recursively, and it keeps the `xml:base`
//! values that `atom_syndication` drops.

use std::borrow::Cow;
use std::collections::HashSet;

use encoding_rs::Encoding;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// Deeper nesting than any real feed needs; beyond it the crates' recursive
/// readers could exhaust the stack.
const MAX_DEPTH: usize = 256;

/// What the strict pass learnt about a well-formed document.
#[derive(Debug)]
pub(crate) struct Outline {
    /// The root element's name as written (`rss`, `rdf:RDF`, `feed`).
    pub root: String,
    /// The root's `xml:base`, entity-decoded.
    pub root_base: Option<String>,
    /// For each element child of the root, in order: its name as written and its `xml:base`.
    pub children: Vec<(String, Option<String>)>,
}

impl Outline {
    /// The local part of the root's name: `RDF` for `rdf:RDF`.
    pub fn root_local(&self) -> &str {
        local(&self.root)
    }
}

/// Where and why a document is not well-formed.
#[derive(Debug)]
pub(crate) struct XmlError {
    /// Byte offset into the decoded text.
    pub offset: usize,
    pub message: String,
}

/// A document decoded to UTF-8, ready for the strict pass and the crates.
pub(crate) struct Decoded<'a> {
    pub text: Cow<'a, str>,
    /// Set when some bytes were not valid in the document's encoding.
    pub replaced: Option<&'static str>,
}

/// Decode `bytes` to UTF-8 text: a byte order mark wins, then the XML
/// declaration's `encoding`, then the HTTP charset, then UTF-8. When the text
/// was transcoded, the declaration is rewritten to say UTF-8, because the crates
/// read the declaration again and would otherwise decode twice.
pub(crate) fn decode<'a>(bytes: &'a [u8], content_type: Option<&str>) -> Decoded<'a> {
    let (encoding, body) = match Encoding::for_bom(bytes) {
        Some((enc, bom_len)) => (enc, bytes.get(bom_len..).unwrap_or_default()),
        None => {
            let enc = if bytes.starts_with(b"<\0?\0") {
                encoding_rs::UTF_16LE
            } else if bytes.starts_with(b"\0<\0?") {
                encoding_rs::UTF_16BE
            } else {
                declared_encoding(bytes)
                    .or_else(|| content_type.and_then(crate::adapters::decode::declared))
                    .unwrap_or(encoding_rs::UTF_8)
            };
            (enc, bytes)
        }
    };
    let (text, had_errors) = encoding.decode_without_bom_handling(body);
    let replaced = had_errors.then_some(encoding.name());
    let text = match text {
        Cow::Borrowed(t) => Cow::Borrowed(t),
        Cow::Owned(t) => Cow::Owned(declare_utf8(t)),
    };
    Decoded { text, replaced }
}

/// The encoding an ASCII-compatible XML declaration names, if it names one we
/// know. A declaration read as ASCII cannot really be UTF-16, so that label is
/// ignored.
fn declared_encoding(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = bytes.get(..bytes.len().min(512)).unwrap_or_default();
    // The declaration is ASCII: the valid UTF-8 before the first other byte holds it.
    let head = match std::str::from_utf8(head) {
        Ok(h) => h,
        Err(e) => {
            std::str::from_utf8(head.get(..e.valid_up_to()).unwrap_or_default()).unwrap_or_default()
        }
    };
    let (start, end) = encoding_attr(head)?;
    let enc = Encoding::for_label(head.get(start..end)?.as_bytes())?;
    (enc != encoding_rs::UTF_16LE && enc != encoding_rs::UTF_16BE).then_some(enc)
}

/// The byte range of the `encoding` value inside a leading `<?xml ...?>`.
fn encoding_attr(text: &str) -> Option<(usize, usize)> {
    let decl_end = text.strip_prefix("<?xml")?.find("?>")? + 5;
    let decl = text.get(..decl_end)?;
    let at = decl.find("encoding")? + "encoding".len();
    let rest = decl.get(at..)?;
    let eq = rest.find('=')?;
    if !rest.get(..eq)?.trim().is_empty() {
        return None;
    }
    let after_eq = rest.get(eq + 1..)?;
    let value_off = after_eq.len() - after_eq.trim_start().len();
    let quote = after_eq.trim_start().chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let start = at + eq + 1 + value_off + 1;
    let len = text.get(start..decl_end)?.find(quote)?;
    Some((start, start + len))
}

fn declare_utf8(mut text: String) -> String {
    if let Some((start, end)) = encoding_attr(&text) {
        text.replace_range(start..end, "UTF-8");
    }
    text
}

/// Does the text start like an HTML page (`<!DOCTYPE html>` or `<html>`),
/// after any XML declaration, comments and white space?
pub(crate) fn looks_like_html(text: &str) -> bool {
    let mut rest = text.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("<?") {
            match after.find("?>") {
                Some(end) => rest = after.get(end + 2..).unwrap_or_default().trim_start(),
                None => return false,
            }
        } else if let Some(after) = rest.strip_prefix("<!--") {
            match after.find("-->") {
                Some(end) => rest = after.get(end + 3..).unwrap_or_default().trim_start(),
                None => return false,
            }
        } else {
            break;
        }
    }
    let head: String = rest
        .chars()
        .take(15)
        .collect::<String>()
        .to_ascii_lowercase();
    let tag_end = |s: &str| {
        s.chars()
            .next()
            .is_none_or(|c| c == '>' || c == '/' || c.is_whitespace())
    };
    head.strip_prefix("<!doctype html").is_some_and(tag_end)
        || head.strip_prefix("<html").is_some_and(tag_end)
}

/// Check that `text` is one well-formed XML document and outline it.
pub(crate) fn check(text: &str) -> Result<Outline, XmlError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_comments = true;
    let fail = |reader: &Reader<&[u8]>, message: String| XmlError {
        offset: usize::try_from(reader.error_position()).unwrap_or(usize::MAX),
        message,
    };
    let at = |reader: &Reader<&[u8]>, message: String| XmlError {
        offset: usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX),
        message,
    };

    let mut entities = Entities::default();
    let mut stack: Vec<String> = Vec::new();
    let mut outline: Option<Outline> = None;
    loop {
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => return Err(fail(&reader, describe(&e))),
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = e.name().as_ref().to_owned();
                let base = attributes(e, &entities).map_err(|m| at(&reader, m))?;
                match (stack.len(), outline.as_mut()) {
                    (0, Some(_)) => {
                        return Err(at(
                            &reader,
                            format!("a second root element <{name}> after the first one ended"),
                        ));
                    }
                    (0, None) => {
                        outline = Some(Outline {
                            root: name.clone(),
                            root_base: base,
                            children: Vec::new(),
                        });
                    }
                    (1, Some(o)) => o.children.push((name.clone(), base)),
                    _ => {}
                }
                if matches!(event, Event::Start(_)) {
                    if stack.len() >= MAX_DEPTH {
                        return Err(at(
                            &reader,
                            format!("elements nested deeper than {MAX_DEPTH} levels"),
                        ));
                    }
                    stack.push(name);
                }
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) => {
                if stack.is_empty() && !t.trim().is_empty() {
                    return Err(at(&reader, "text outside the root element".to_owned()));
                }
            }
            Event::CData(_) => {
                if stack.is_empty() {
                    return Err(at(&reader, "CDATA outside the root element".to_owned()));
                }
            }
            Event::GeneralRef(r) => {
                if stack.is_empty() {
                    return Err(at(
                        &reader,
                        "a reference outside the root element".to_owned(),
                    ));
                }
                entities.check(&r).map_err(|m| at(&reader, m))?;
            }
            Event::DocType(d) => {
                if outline.is_some() {
                    return Err(at(&reader, "a DOCTYPE after the root element".to_owned()));
                }
                entities = Entities::from_doctype(&d);
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => {
                return match (stack.last(), outline) {
                    (Some(open), _) => Err(at(
                        &reader,
                        format!("the document ends inside <{open}>: it was cut off"),
                    )),
                    (None, None) => Err(at(&reader, "no root element".to_owned())),
                    (None, Some(o)) => Ok(o),
                };
            }
        }
    }
}

/// Check a tag's attributes (unique names, quoting, references) and return its
/// `xml:base`, decoded.
fn attributes(e: &BytesStart, entities: &Entities) -> Result<Option<String>, String> {
    let mut base = None;
    for attr in e.attributes() {
        let attr = attr.map_err(|err| format!("bad attribute: {err}"))?;
        let value = &attr.value;
        if value.contains('<') {
            return Err(format!(
                "'<' inside the value of attribute {}",
                attr.key.as_ref()
            ));
        }
        let decoded = decode_refs(value, entities)?;
        if attr.key.as_ref() == "xml:base" {
            base = Some(decoded);
        }
    }
    Ok(base)
}

/// Replace the references in an attribute value, checking each.
fn decode_refs(value: &str, entities: &Entities) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        let after = rest.get(amp + 1..).unwrap_or_default();
        let Some(semi) = after.find(';') else {
            return Err(bare_amp());
        };
        let name = after.get(..semi).unwrap_or_default();
        out.push_str(&entities.check(name)?);
        rest = after.get(semi + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    Ok(out)
}

fn bare_amp() -> String {
    "a bare '&' that starts no reference (write it as &amp;)".to_owned()
}

/// Which entity names a document may use: XML's five, plus those its DOCTYPE
/// declares. With an external DTD (RSS 0.91's Netscape DTD declares the HTML
/// entities) undeclared names are not a well-formedness error, so any is let
/// through and decoded later as HTML.
#[derive(Default)]
struct Entities {
    declared: HashSet<String>,
    any: bool,
}

impl Entities {
    fn from_doctype(doctype: &str) -> Self {
        let (head, subset) = match doctype.split_once('[') {
            Some((h, s)) => (h, s),
            None => (doctype, ""),
        };
        let external = head
            .split_whitespace()
            .any(|w| w == "PUBLIC" || w == "SYSTEM");
        // A parameter entity reference in the internal subset may declare anything.
        let param_refs = subset.contains('%');
        let declared = subset
            .split("<!ENTITY")
            .skip(1)
            .filter_map(|decl| decl.split_whitespace().next())
            .filter(|name| *name != "%")
            .map(str::to_owned)
            .collect();
        Entities {
            declared,
            any: external || param_refs,
        }
    }

    /// Check one reference (the text between `&` and `;`) and return what it
    /// stands for as far as this pass cares.
    fn check(&self, name: &str) -> Result<String, String> {
        if let Some(num) = name.strip_prefix('#') {
            let code = match num.strip_prefix('x') {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => num.parse::<u32>().ok(),
            };
            return match code.and_then(char::from_u32).filter(|c| xml_char(*c)) {
                Some(c) => Ok(c.to_string()),
                None => Err(format!("&{name}; is not a character XML allows")),
            };
        }
        if !is_name(name) {
            return Err(bare_amp());
        }
        match name {
            "lt" => Ok("<".to_owned()),
            "gt" => Ok(">".to_owned()),
            "amp" => Ok("&".to_owned()),
            "apos" => Ok("'".to_owned()),
            "quot" => Ok("\"".to_owned()),
            _ if self.any || self.declared.contains(name) => Ok(format!("&{name};")),
            _ => Err(format!(
                "undefined entity &{name}; (XML defines only &amp; &lt; &gt; &quot; &apos; \
                 unless the document declares more; HTML entities such as &nbsp; are not XML)"
            )),
        }
    }
}

fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// An XML Name, close enough: starts with a letter, `_` or `:`, then name characters.
fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.' | '\u{B7}'))
}

fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// quick-xml's error, in words a feed's publisher would recognise.
fn describe(e: &quick_xml::Error) -> String {
    use quick_xml::errors::IllFormedError;
    match e {
        quick_xml::Error::IllFormed(IllFormedError::UnclosedReference) => bare_amp(),
        quick_xml::Error::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => {
            format!("</{found}> closes <{expected}>")
        }
        quick_xml::Error::IllFormed(IllFormedError::UnmatchedEndTag(name)) => {
            format!("</{name}> closes no open element")
        }
        other => other.to_string(),
    }
}

/// 1-based line and column of a byte offset, for error messages.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut cut = offset.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let before = text.get(..cut).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undefined_entity_and_bare_ampersand_are_errors_with_places() {
        let e = check("<rss>\n<t>a&nbsp;b</t></rss>").unwrap_err();
        assert!(e.message.contains("&nbsp;"), "{}", e.message);
        assert_eq!(line_column("<rss>\n<t>a&nbsp;b</t></rss>", e.offset).0, 2);
        let e = check("<rss><l>a?x=1&y=2</l></rss>").unwrap_err();
        assert!(e.message.contains("bare '&'"), "{}", e.message);
        let e = check("<rss><l href=\"a?x=1&y=2\"/></rss>").unwrap_err();
        assert!(e.message.contains("bare '&'"), "{}", e.message);
    }

    #[test]
    fn declared_and_external_entities_pass() {
        assert!(check("<!DOCTYPE r [<!ENTITY c \"C\">]><r>&c;</r>").is_ok());
        assert!(
            check("<!DOCTYPE rss PUBLIC \"-//N//DTD RSS 0.91//EN\" \"x.dtd\"><rss>&eacute;</rss>")
                .is_ok()
        );
    }

    #[test]
    fn truncation_junk_and_depth_are_errors() {
        assert!(
            check("<feed><entry>")
                .unwrap_err()
                .message
                .contains("cut off")
        );
        assert!(check("<feed/><feed/>").is_err());
        assert!(check("<feed/>junk").is_err());
        assert!(check("").is_err());
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(check(&deep).unwrap_err().message.contains("nested"));
    }

    #[test]
    fn outline_keeps_bases() {
        let o = check(
            "<feed xml:base=\"https://a.example/x/\"><title/><entry xml:base=\"y/\"/></feed>",
        )
        .unwrap();
        assert_eq!(o.root_local(), "feed");
        assert_eq!(o.root_base.as_deref(), Some("https://a.example/x/"));
        assert_eq!(o.children.len(), 2);
        assert_eq!(o.children[1], ("entry".to_owned(), Some("y/".to_owned())));
    }

    #[test]
    fn transcodes_and_rewrites_the_declaration() {
        let d = decode(
            b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><r>\x93q\x94</r>",
            None,
        );
        assert_eq!(
            d.text,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><r>\u{201C}q\u{201D}</r>"
        );
        let d = decode(b"<r>\xE9</r>", Some("text/xml; charset=ISO-8859-1"));
        assert_eq!(d.text, "<r>\u{E9}</r>");
        assert!(decode(b"<r>\xE9</r>", None).replaced.is_some());
    }

    #[test]
    fn html_sniffing() {
        assert!(looks_like_html("\n<!DOCTYPE html>\n<html>"));
        assert!(looks_like_html(
            "<?xml version=\"1.0\"?><!-- x --><HTML lang=en>"
        ));
        assert!(!looks_like_html("<rss version=\"2.0\">"));
        assert!(!looks_like_html("<htmlfeed>"));
    }
}
