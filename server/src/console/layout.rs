//! The frame of every console page: `<html lang>`, the viewport for phones, a skip link, the
//! navigation (cases, map, figures, the language switch and the sign-out form) and the
//! stylesheet and htmx, both served by the server under `/console/assets/` (no CDN: a city
//! intranet has no outside internet). No inline script or style, so the Content-Security-Policy
//! can forbid both.

use axum::http::StatusCode;
use maud::{DOCTYPE, Markup, html};

use super::i18n::{Key, Lang, t};
use super::session::ConsoleUser;

/// The stylesheet every page links (through `assets::url`, which adds its hash).
pub const CSS_PATH: &str = "/console/assets/console.css";
/// htmx (vendored; `server/console/assets/`), then the console's htmx settings (`console.js`).
pub const HTMX_PATH: &str = "/console/assets/htmx.min.js";

/// Which navigation entry a page belongs to (marked `aria-current`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// The case list and case pages.
    Cases,
    /// The map.
    Map,
    /// The figures.
    Figures,
    /// None (errors).
    None,
}

fn head(lang: Lang, title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · " (t(lang, Key::AppName)) }
            link rel="stylesheet" href=(super::assets::url("console.css"));
            script src=(super::assets::url("htmx.min.js")) defer {}
            script src=(super::assets::url("console.js")) defer {}
        }
    }
}

/// A page for a signed-in account, in the navigation's `section`.
pub fn page(user: &ConsoleUser, section: Section, title: &str, body: Markup) -> Markup {
    let lang = user.lang;
    let nav = [
        (Section::Cases, "/console/cases", Key::NavCases),
        (Section::Map, "/console/map", Key::NavMap),
        (Section::Figures, "/console/figures", Key::NavFigures),
    ];
    let header = html! {
        nav aria-label=(t(lang, Key::AppName)) {
            ul {
                @for (s, href, key) in nav {
                    li {
                        @if s == section {
                            a href=(href) aria-current="page" { (t(lang, key)) }
                        } @else {
                            a href=(href) { (t(lang, key)) }
                        }
                    }
                }
            }
        }
        div.account {
            span {
                span.visually-hidden { (t(lang, Key::SignedInAs)) " " }
                (user.user()) " (" (role_name(lang, user)) ")"
            }
            a href=(switch_href(&user.query, lang)) lang=(lang.other().tag()) {
                (t(lang, Key::LanguageSwitch))
            }
            form method="post" action="/console/logout" {
                input type="hidden" name="csrf" value=(user.csrf);
                button type="submit" { (t(lang, Key::Logout)) }
            }
        }
    };
    shell(lang, title, header, body)
}

/// Every console page: the document, the skip link, the header (brand, then `header`) and
/// the main region with its heading.
fn shell(lang: Lang, title: &str, header: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            (head(lang, title))
            body {
                a.skip href="#main" { (t(lang, Key::SkipToContent)) }
                header.top {
                    span.brand { (t(lang, Key::AppName)) }
                    (header)
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The link to this page in the other language: its query (without `lang`) kept.
fn switch_href(query: &str, lang: Lang) -> String {
    if query.is_empty() {
        format!("?lang={}", lang.other().code())
    } else {
        format!("?{query}&lang={}", lang.other().code())
    }
}

/// The account's role as its holders call it.
pub fn role_name(lang: Lang, user: &ConsoleUser) -> &'static str {
    use waystation_core::sync::policy::Role;
    match user.account.role {
        Role::Rider => lang.pick("骑手", "rider"),
        Role::Station => lang.pick("驿站", "station staff"),
        Role::Supervisor => lang.pick("监督员", "supervisor"),
        Role::Grid => lang.pick("网格员", "grid worker"),
        Role::Admin => lang.pick("管理员", "administrator"),
    }
}

/// A page without navigation: sign-in and errors before a session exists.
pub fn bare_page(lang: Lang, title: &str, body: Markup) -> Markup {
    let header = html! {
        div.account {
            a href={ "?lang=" (lang.other().code()) } lang=(lang.other().tag()) {
                (t(lang, Key::LanguageSwitch))
            }
        }
    };
    shell(lang, title, header, body)
}

/// The page of a refused or failed request.
pub fn error_page(lang: Lang, status: StatusCode, message: &str) -> Markup {
    let title = t(lang, Key::ErrorTitle);
    bare_page(
        lang,
        title,
        html! {
            p.error role="alert" { (status.as_u16()) " · " (message) }
            p { a href="/console/cases" { (t(lang, Key::BackToCases)) } }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use waystation_core::sync::policy::{Account, Role};

    #[test]
    fn pages_escape_and_carry_the_frame() {
        let user = ConsoleUser {
            account: Account {
                user: "grid-<1>".into(),
                role: Role::Grid,
                areas: vec![],
            },
            lang: Lang::Zh,
            csrf: "tok".into(),
            scope_epoch: 0,
            query: "district=610113&q=%E5%A4%96%E5%8D%96".into(),
        };
        let html = page(&user, Section::Cases, "案件", html! { p { "<b>x</b>" } }).into_string();
        assert!(html.starts_with("<!DOCTYPE html><html lang=\"zh-CN\">"));
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;"));
        assert!(html.contains("grid-&lt;1&gt;"));
        assert!(html.contains("name=\"csrf\" value=\"tok\""));
        assert!(html.contains("href=\"#main\""));
        assert!(html.contains("aria-current=\"page\""));
        assert!(!html.contains("style="));
        // The language switch keeps the page's query.
        assert!(
            html.contains("href=\"?district=610113&amp;q=%E5%A4%96%E5%8D%96&amp;lang=en\""),
            "{html}"
        );
    }
}
