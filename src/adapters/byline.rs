//! A *byline* is one text naming a story's authors: "By A, B and C". When a
//! source sets `author_separators`, each author text is split into names at
//! any of them, after dropping a leading "By"; names keep their byline order.

/// The separators `suggest` writes when a byline holds several names; a
/// config may list its own.
pub const DEFAULT_SEPARATORS: &[&str] = &[",", " and ", "&", "|", ";"];

/// The names in `text`, split at every separator in `seps` (letters compare
/// case-insensitively, so " and " matches " AND "). Empty `seps`: the whole text is one name.
pub fn split(text: &str, seps: &[String]) -> Vec<String> {
    if seps.is_empty() {
        let text = text.trim();
        return if text.is_empty() {
            Vec::new()
        } else {
            vec![text.to_owned()]
        };
    }
    let text = strip_by(text.trim());
    let lower = text.to_lowercase();
    // Lowercasing can change byte lengths (rare scripts); then split exactly.
    let hay = if lower.len() == text.len() {
        lower.as_str()
    } else {
        text
    };
    let seps: Vec<String> = seps.iter().map(|s| s.to_lowercase()).collect();
    let mut names = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < hay.len() {
        let hit = seps.iter().filter(|s| !s.is_empty()).find(|s| {
            hay.get(i..)
                .is_some_and(|rest| rest.starts_with(s.as_str()))
        });
        match hit {
            Some(sep) => {
                names.push(text.get(start..i).unwrap_or_default());
                i += sep.len();
                start = i;
            }
            None => {
                i += hay
                    .get(i..)
                    .and_then(|r| r.chars().next())
                    .map_or(1, char::len_utf8)
            }
        }
    }
    names.push(text.get(start..).unwrap_or_default());
    names
        .into_iter()
        .map(|n| strip_by(n.trim()).trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect()
}

/// "By Jane Doe" and "by: Jane Doe" -> "Jane Doe".
fn strip_by(text: &str) -> &str {
    if text.eq_ignore_ascii_case("by") {
        return "";
    }
    let lower = text.get(..3).map(str::to_ascii_lowercase);
    match lower.as_deref() {
        Some("by " | "by:") => text
            .get(3..)
            .unwrap_or_default()
            .trim_start_matches(':')
            .trim(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seps() -> Vec<String> {
        DEFAULT_SEPARATORS.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn bylines_split_into_names() {
        assert_eq!(
            split("By A Smith, B Jones and C Lee", &seps()),
            ["A Smith", "B Jones", "C Lee"]
        );
        assert_eq!(split("Ann, Bo & Cy", &seps()), ["Ann", "Bo", "Cy"]);
        assert_eq!(
            split("by: Jo Brand AND Al Dee", &seps()),
            ["Jo Brand", "Al Dee"]
        );
        assert_eq!(split("Alexandra Bynes", &seps()), ["Alexandra Bynes"]);
        assert_eq!(split("Byron Candy", &seps()), ["Byron Candy"]);
        assert_eq!(split("By Ann and Bo", &[]), ["By Ann and Bo"]);
        assert_eq!(split("Ann / Bo", &["/".to_owned()]), ["Ann", "Bo"]);
        assert!(split("By ", &seps()).is_empty());
    }
}
