//! Text from the bytes of an HTML page.
//!
//! The *encoding* of a page is found the way browsers find it, first match
//! wins: a byte order mark, the `charset` of the HTTP `Content-Type`, a
//! `<meta charset>` or `<meta http-equiv="Content-Type" content="...charset=...">`
//! in the first 1024 bytes, else UTF-8. Labels are WHATWG labels (`latin1` and
//! `iso-8859-1` mean windows-1252, as in browsers), decoded with `encoding_rs`.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252, X_USER_DEFINED};

/// How far into the page a `<meta>` charset is looked for (as in the HTML spec).
const PRESCAN_LEN: usize = 1024;

/// Where the encoding of a page came from, for `byline check` and warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodingSource {
    Bom,
    ContentType,
    Meta,
    Default,
}

/// A page as text.
#[derive(Debug)]
pub struct Decoded<'a> {
    /// Borrowed when the page was valid UTF-8 without a BOM.
    pub text: Cow<'a, str>,
    pub encoding: &'static Encoding,
    pub source: EncodingSource,
    /// Some bytes were not valid in `encoding` and became U+FFFD.
    pub had_errors: bool,
}

/// Decode an HTML page, given its HTTP `Content-Type` if it came over HTTP.
pub fn decode_html<'a>(bytes: &'a [u8], content_type: Option<&str>) -> Decoded<'a> {
    let (encoding, source, body) = if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        (
            enc,
            EncodingSource::Bom,
            bytes.get(bom_len..).unwrap_or_default(),
        )
    } else if let Some(enc) = content_type.and_then(charset_param).and_then(label) {
        (enc, EncodingSource::ContentType, bytes)
    } else if let Some(enc) = meta_charset(bytes) {
        (enc, EncodingSource::Meta, bytes)
    } else {
        (UTF_8, EncodingSource::Default, bytes)
    };
    let (text, had_errors) = encoding.decode_without_bom_handling(body);
    Decoded {
        text,
        encoding,
        source,
        had_errors,
    }
}

/// An encoding from a label, with the HTML spec's overrides: a page that
/// declares UTF-16 in ASCII cannot be UTF-16, and `x-user-defined` means windows-1252.
fn label(name: &str) -> Option<&'static Encoding> {
    let enc = Encoding::for_label(name.trim().as_bytes())?;
    Some(if enc == UTF_16BE || enc == UTF_16LE {
        UTF_8
    } else if enc == X_USER_DEFINED {
        WINDOWS_1252
    } else {
        enc
    })
}

/// A body that is not valid in the charset its `Content-Type` declares is
/// broken upstream: reading it anyway would store mangled titles (and, for
/// url-less items, new ids) over good ones. `Err` says where the bytes go
/// wrong. An unknown label, or no charset at all, is the adapter's to judge.
pub fn check_declared(bytes: &[u8], content_type: Option<&str>) -> Result<(), String> {
    let Some(content_type) = content_type else {
        return Ok(());
    };
    let Some(encoding) =
        charset_param(content_type).and_then(|l| Encoding::for_label(l.trim().as_bytes()))
    else {
        return Ok(());
    };
    let (encoding, bom) = Encoding::for_bom(bytes).unwrap_or((encoding, 0));
    let body = bytes.get(bom..).unwrap_or_default();
    if encoding
        .decode_without_bom_handling_and_without_replacement(body)
        .is_some()
    {
        return Ok(());
    }
    let at = match std::str::from_utf8(body) {
        Err(e) if encoding == UTF_8 => format!(" at byte {}", e.valid_up_to() + bom),
        _ => String::new(),
    };
    Err(format!(
        "body is not valid {} as its Content-Type {content_type:?} declares (invalid bytes{at}); page not read",
        encoding.name()
    ))
}

/// The encoding the `charset` parameter of a `Content-Type` value names, as
/// its label says (no HTML overrides: an XML feed may really be UTF-16).
pub(crate) fn declared(content_type: &str) -> Option<&'static Encoding> {
    charset_param(content_type).and_then(|l| Encoding::for_label(l.trim().as_bytes()))
}

/// The `charset` parameter of a `Content-Type` value: `text/html; charset="utf-8"`.
fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(|c| c == '"' || c == '\''))
    })
}

/// The charset a `<meta>` tag declares in the first 1024 bytes, following the
/// shape of the HTML spec's prescan: comments are skipped, attributes may be
/// quoted or not, `charset=` wins over `http-equiv` + `content`.
fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = bytes.get(..PRESCAN_LEN.min(bytes.len()))?;
    let mut i = 0;
    while i < head.len() {
        let rest = head.get(i..)?;
        if rest.starts_with(b"<!--") {
            i += find(rest, b"-->").map_or(rest.len(), |e| e + 3);
        } else if rest.len() > 5
            && rest.get(..5)?.eq_ignore_ascii_case(b"<meta")
            && rest
                .get(5)
                .is_some_and(|b| b.is_ascii_whitespace() || *b == b'/')
        {
            let (attrs, used) = attributes(rest.get(5..)?);
            i += 5 + used;
            let get = |name: &str| {
                attrs
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
            };
            if let Some(cs) = get("charset") {
                if let Some(enc) = label(cs) {
                    return Some(enc);
                }
            } else if get("http-equiv").is_some_and(|v| v.eq_ignore_ascii_case("content-type"))
                && let Some(enc) = get("content").and_then(content_charset).and_then(label)
            {
                return Some(enc);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// The charset in a meta `content` value: `text/html; charset=windows-1252`.
fn content_charset(content: &str) -> Option<&str> {
    let lower = content.to_ascii_lowercase();
    let at = lower.find("charset")?;
    let rest = content.get(at + "charset".len()..)?.trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let value = match rest.chars().next()? {
        q @ ('"' | '\'') => rest.get(1..)?.split(q).next()?,
        _ => rest.split([';', ' ', '\t', '\n', '\r']).next()?,
    };
    (!value.is_empty()).then_some(value)
}

/// Attributes of a tag up to its `>`, and how many bytes they took.
fn attributes(bytes: &[u8]) -> (Vec<(String, String)>, usize) {
    let mut attrs = Vec::new();
    let mut i = 0;
    let at = |i: usize| bytes.get(i).copied();
    loop {
        while at(i).is_some_and(|b| b.is_ascii_whitespace() || b == b'/') {
            i += 1;
        }
        match at(i) {
            None => return (attrs, i),
            Some(b'>') => return (attrs, i + 1),
            _ => {}
        }
        let start = i;
        while at(i).is_some_and(|b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/')) {
            i += 1;
        }
        let name = String::from_utf8_lossy(bytes.get(start..i).unwrap_or_default()).into_owned();
        while at(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        let mut value = String::new();
        if at(i) == Some(b'=') {
            i += 1;
            while at(i).is_some_and(|b| b.is_ascii_whitespace()) {
                i += 1;
            }
            let vstart;
            match at(i) {
                Some(q @ (b'"' | b'\'')) => {
                    i += 1;
                    vstart = i;
                    while at(i).is_some_and(|b| b != q) {
                        i += 1;
                    }
                    value = String::from_utf8_lossy(bytes.get(vstart..i).unwrap_or_default())
                        .into_owned();
                    if at(i).is_some() {
                        i += 1;
                    }
                }
                _ => {
                    vstart = i;
                    while at(i).is_some_and(|b| !b.is_ascii_whitespace() && b != b'>') {
                        i += 1;
                    }
                    value = String::from_utf8_lossy(bytes.get(vstart..i).unwrap_or_default())
                        .into_owned();
                }
            }
        }
        if name.is_empty() {
            // A stray `=`: skip it so the loop always advances.
            i += 1;
        } else {
            attrs.push((name, value));
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_wins_over_everything() {
        let mut page = vec![0xEF, 0xBB, 0xBF];
        page.extend_from_slice("<meta charset=windows-1252>‘x’".as_bytes());
        let d = decode_html(&page, Some("text/html; charset=iso-8859-2"));
        assert_eq!(d.source, EncodingSource::Bom);
        assert_eq!(d.encoding, UTF_8);
        assert!(d.text.ends_with("‘x’"));

        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("<p>é</p>".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let d = decode_html(&utf16, None);
        assert_eq!(d.encoding, UTF_16LE);
        assert_eq!(d.text, "<p>é</p>");
    }

    #[test]
    fn content_type_then_meta_then_utf8() {
        let page = b"<meta charset=\"utf-8\"><p>\x91x\x92</p>";
        let d = decode_html(page, Some("text/html; Charset=\"Windows-1252\""));
        assert_eq!(d.source, EncodingSource::ContentType);
        assert_eq!(d.text, "<meta charset=\"utf-8\"><p>‘x’</p>");

        let d = decode_html(
            b"<head><meta charset='windows-1252'>\x92",
            Some("text/html"),
        );
        assert_eq!((d.source, d.encoding), (EncodingSource::Meta, WINDOWS_1252));
        assert!(d.text.ends_with('’'));

        let d = decode_html(
            b"<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=ISO-8859-1\">\xA9",
            None,
        );
        assert_eq!((d.source, d.encoding), (EncodingSource::Meta, WINDOWS_1252));
        assert!(d.text.ends_with('©'));

        let d = decode_html("<p>‘x’</p>".as_bytes(), None);
        assert_eq!(d.source, EncodingSource::Default);
        assert!(matches!(d.text, Cow::Borrowed(_)));
        assert!(!d.had_errors);

        let d = decode_html(b"<p>\x91</p>", None);
        assert!(d.had_errors);
        assert_eq!(d.text, "<p>\u{FFFD}</p>");
    }

    #[test]
    fn meta_prescan_edges() {
        // Inside a comment: ignored.
        let d = decode_html(b"<!-- <meta charset=windows-1252> --><p>", None);
        assert_eq!(d.source, EncodingSource::Default);
        // Past 1024 bytes: ignored.
        let mut late = vec![b' '; 1100];
        late.extend_from_slice(b"<meta charset=windows-1252>");
        assert_eq!(decode_html(&late, None).source, EncodingSource::Default);
        // UTF-16 declared in ASCII means UTF-8; unknown labels are ignored.
        assert_eq!(decode_html(b"<meta charset=utf-16>", None).encoding, UTF_8);
        assert_eq!(
            decode_html(b"<meta charset=klingon><meta charset=latin1>", None).encoding,
            WINDOWS_1252
        );
        // Unterminated tags and stray characters never panic.
        for page in [
            &b"<meta"[..],
            b"<meta ",
            b"<meta charset=",
            b"<meta =x>",
            b"<meta a='",
        ] {
            let _ = decode_html(page, None);
        }
    }
}
