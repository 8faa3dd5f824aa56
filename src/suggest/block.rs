//! The *block*: one `[[source]]` table of `feeds.toml`, written as text from a
//! [`Plan`]. What `suggest` reports is what this text yields once parsed back
//! by `Config::parse`, so every value is written with TOML's own quoting.

use std::fmt::Write as _;

use url::Url;

/// How a field of an HTML card is read: a selector inside the card and the
/// attributes to try (empty: the field's default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sel {
    pub(crate) css: String,
    pub(crate) attrs: Vec<String>,
}

impl Sel {
    pub(crate) fn css(css: impl Into<String>) -> Sel {
        Sel {
            css: css.into(),
            attrs: Vec::new(),
        }
    }

    pub(crate) fn with_attrs(css: impl Into<String>, attrs: &[&str]) -> Sel {
        Sel {
            css: css.into(),
            attrs: attrs.iter().map(|a| (*a).to_owned()).collect(),
        }
    }
}

/// The `[source.html]` table of a suggestion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct HtmlPlan {
    pub(crate) item: String,
    pub(crate) title: Option<Sel>,
    pub(crate) url: Option<Sel>,
    pub(crate) summary: Option<Sel>,
    pub(crate) authors: Option<Sel>,
    /// Split author texts at the default separators.
    pub(crate) split_authors: bool,
    pub(crate) published: Option<Sel>,
    pub(crate) tags: Option<Sel>,
    pub(crate) image: Option<Sel>,
    pub(crate) next_page: Option<Sel>,
    pub(crate) date_formats: Vec<String>,
    /// `jsonld = "always"`: the page's JSON-LD first.
    pub(crate) jsonld_first: bool,
}

/// The `[source.json]` table of a suggestion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct JsonPlan {
    pub(crate) script: Option<String>,
    pub(crate) items: String,
    pub(crate) title: String,
    pub(crate) url: String,
    pub(crate) url_template: Option<String>,
    pub(crate) summary: Option<String>,
    pub(crate) authors: Option<String>,
    pub(crate) published: Option<String>,
    pub(crate) tags: Option<String>,
    pub(crate) image: Option<String>,
}

/// What kind of source a suggestion is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    /// A feed the page links.
    Feed(Url),
    Html(HtmlPlan),
    Json(JsonPlan),
}

/// Where the block's one input comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Input {
    Url(Url),
    /// A saved page, with the url it was saved from when known.
    File {
        path: String,
        url: Option<Url>,
    },
}

/// Everything a block states besides its plan.
#[derive(Debug, Clone)]
pub(crate) struct Head<'a> {
    pub(crate) name: &'a str,
    pub(crate) input: &'a Input,
    /// An IANA zone and why it was chosen.
    pub(crate) timezone: Option<(String, String)>,
    /// Comment lines written above the block.
    pub(crate) notes: &'a [String],
}

/// A TOML string literal.
pub(crate) fn quote(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// The block's text, ending with a newline.
pub(crate) fn write(head: &Head, plan: &Plan) -> String {
    let mut out = String::new();
    for n in head.notes {
        let _ = writeln!(out, "# {n}");
    }
    let kind = match plan {
        Plan::Feed(_) => "feed",
        Plan::Html(_) => "html",
        Plan::Json(_) => "json",
    };
    let _ = writeln!(out, "[[source]]");
    let _ = writeln!(out, "name = {}", quote(head.name));
    let _ = writeln!(out, "kind = {}", quote(kind));
    let input = match (plan, head.input) {
        (Plan::Feed(u), _) | (_, Input::Url(u)) => quote(u.as_str()),
        (_, Input::File { path, url: None }) => quote(path),
        (_, Input::File { path, url: Some(u) }) => {
            format!("{{ file = {}, url = {} }}", quote(path), quote(u.as_str()))
        }
    };
    let _ = writeln!(out, "inputs = [{input}]");
    if let (Some((zone, why)), false) = (&head.timezone, matches!(plan, Plan::Feed(_))) {
        let _ = writeln!(out, "# {why}");
        let _ = writeln!(out, "timezone = {}", quote(zone));
    }
    match plan {
        Plan::Feed(_) => {}
        Plan::Html(h) => write_html(&mut out, h),
        Plan::Json(j) => write_json(&mut out, j),
    }
    out
}

fn field(out: &mut String, key: &str, sel: &Option<Sel>) {
    let Some(s) = sel else { return };
    if s.attrs.is_empty() {
        let _ = writeln!(out, "{key} = {}", quote(&s.css));
    } else {
        let _ = writeln!(
            out,
            "{key} = {{ css = {}, attrs = {} }}",
            quote(&s.css),
            list(&s.attrs)
        );
    }
}

fn write_html(out: &mut String, h: &HtmlPlan) {
    let _ = writeln!(out, "[source.html]");
    let _ = writeln!(out, "item = {}", quote(&h.item));
    // `title` is required; a JSON-LD-first block with no cards still needs one.
    let title = h.title.clone().or_else(|| Some(Sel::css("a")));
    field(out, "title", &title);
    field(out, "url", &h.url);
    field(out, "summary", &h.summary);
    field(out, "authors", &h.authors);
    if h.split_authors && h.authors.is_some() {
        let seps: Vec<String> = crate::adapters::byline::DEFAULT_SEPARATORS
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let _ = writeln!(out, "author_separators = {}", list(&seps));
    }
    field(out, "published", &h.published);
    field(out, "tags", &h.tags);
    field(out, "image", &h.image);
    field(out, "next_page", &h.next_page);
    if !h.date_formats.is_empty() {
        let _ = writeln!(out, "date_formats = {}", list(&h.date_formats));
    }
    if h.jsonld_first {
        let _ = writeln!(out, "jsonld = \"always\"");
    }
}

fn write_json(out: &mut String, j: &JsonPlan) {
    let _ = writeln!(out, "[source.json]");
    if let Some(s) = &j.script {
        let _ = writeln!(out, "script = {}", quote(s));
    }
    let _ = writeln!(out, "items = {}", quote(&j.items));
    let _ = writeln!(out, "title = {}", quote(&j.title));
    let _ = writeln!(out, "url = {}", quote(&j.url));
    if let Some(t) = &j.url_template {
        let _ = writeln!(out, "url_template = {}", quote(t));
    }
    for (key, v) in [
        ("summary", &j.summary),
        ("authors", &j.authors),
        ("published", &j.published),
        ("tags", &j.tags),
        ("image", &j.image),
    ] {
        if let Some(v) = v {
            let _ = writeln!(out, "{key} = {}", quote(v));
        }
    }
}

/// A source name from the page's host ("www.nknews.org" -> `nknews-org`) or,
/// for a saved page without a url, its file name.
pub(crate) fn source_name(input: &Input) -> String {
    let raw = match input {
        Input::Url(u) | Input::File { url: Some(u), .. } => u
            .host_str()
            .unwrap_or("site")
            .trim_start_matches("www.")
            .to_owned(),
        Input::File { path, url: None } => std::path::Path::new(path)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("site")
            .to_owned(),
    };
    let slug = crate::model::slugify(&raw.replace('.', " "));
    if slug.is_empty() {
        "site".to_owned()
    } else {
        slug
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_as_toml() {
        let input = Input::File {
            path: "/tmp/a \"b\".html".to_owned(),
            url: Url::parse("https://www.news.example/x/").ok(),
        };
        let plan = Plan::Html(HtmlPlan {
            item: "article[data-x=\"1\"]".to_owned(),
            title: Some(Sel::css("h2 a")),
            image: Some(Sel::with_attrs("img", &["data-src", "src"])),
            ..HtmlPlan::default()
        });
        let head = Head {
            name: &source_name(&input),
            input: &input,
            timezone: None,
            notes: &[],
        };
        let text = write(&head, &plan);
        let parsed: toml::Table = toml::from_str(&text).expect("valid toml");
        let source = &parsed["source"][0];
        assert_eq!(source["name"].as_str(), Some("news-example"));
        assert_eq!(
            source["inputs"][0]["file"].as_str(),
            Some("/tmp/a \"b\".html")
        );
        assert_eq!(
            source["html"]["item"].as_str(),
            Some("article[data-x=\"1\"]")
        );
        assert_eq!(source["html"]["image"]["attrs"][1].as_str(), Some("src"));
    }
}
