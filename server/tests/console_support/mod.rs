//! A browser for the console tests: a plain HTTP client that keeps the session cookie the way
//! a browser does (by hand: the test sees every `Set-Cookie`), follows no redirect on its own
//! (each test looks at them), and reads the CSRF token out of the page's forms.

#![allow(dead_code)]

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};

/// An answer, read whole.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    fn of(r: Response) -> Page {
        let status = r.status();
        let headers = r.headers().clone();
        let body = r.text().expect("body read");
        Page {
            status,
            headers,
            body,
        }
    }

    /// The `Location` of a redirect.
    pub fn location(&self) -> Option<&str> {
        self.headers.get(LOCATION).and_then(|v| v.to_str().ok())
    }

    /// Every `Set-Cookie` value.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(String::from))
            .collect()
    }

    /// The value of the first `name="<field>" value="..."` in the page (a hidden input).
    pub fn field(&self, name: &str) -> Option<String> {
        let needle = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&needle)? + needle.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_string())
    }

    /// The page's CSRF token (every signed-in page has the sign-out form).
    pub fn csrf(&self) -> String {
        self.field("csrf").expect("the page carries a CSRF token")
    }
}

/// A browser signed in (or not) to one server's console.
pub struct Browser {
    pub base: String,
    pub http: Client,
    /// `console_session=<id>`, once signed in.
    pub session: Option<String>,
    /// `Accept-Language` sent with every request.
    pub accept_language: String,
}

/// A client that follows no redirect.
pub fn client() -> Client {
    crate::common::http_client();
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("client builds")
}

/// The session id a sign-in answer set, from its `Set-Cookie`.
pub fn session_of(page: &Page) -> Option<String> {
    page.set_cookies().iter().find_map(|c| {
        c.strip_prefix("console_session=")
            .map(|rest| rest.split(';').next().unwrap_or("").to_string())
            .filter(|v| !v.is_empty())
    })
}

impl Browser {
    /// A browser with no session yet, preferring Chinese.
    pub fn new(base: &str) -> Browser {
        Browser {
            base: base.to_string(),
            http: client(),
            session: None,
            accept_language: "zh-CN,zh;q=0.9,en;q=0.5".into(),
        }
    }

    /// Signs in with `token` and checks that a session came back; panics otherwise.
    pub fn signed_in(base: &str, token: &str) -> Browser {
        let mut b = Browser::new(base);
        let page = b.sign_in(token);
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert!(b.session.is_some(), "a session cookie was set");
        b
    }

    /// Posts the sign-in form; keeps the session the answer sets.
    pub fn sign_in(&mut self, token: &str) -> Page {
        let page = self.post_form("/console/login", &[("token", token)]);
        if let Some(id) = session_of(&page) {
            self.session = Some(id);
        }
        page
    }

    fn request(&self, rb: reqwest::blocking::RequestBuilder) -> reqwest::blocking::RequestBuilder {
        let rb = rb.header("accept-language", &self.accept_language);
        match &self.session {
            Some(id) => rb.header("cookie", format!("console_session={id}")),
            None => rb,
        }
    }

    /// GET a console page as a browser does (`Accept: text/html`).
    pub fn get(&self, path: &str) -> Page {
        let rb = self
            .http
            .get(format!("{}{path}", self.base))
            .header("accept", "text/html,application/xhtml+xml");
        Page::of(self.request(rb).send().expect("request sent"))
    }

    /// GET with extra headers.
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut rb = self.http.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        Page::of(self.request(rb).send().expect("request sent"))
    }

    /// GET the raw bytes (a photo).
    pub fn get_bytes(&self, path: &str) -> (StatusCode, Vec<u8>) {
        let r = self
            .request(self.http.get(format!("{}{path}", self.base)))
            .send()
            .expect("request sent");
        let status = r.status();
        (status, r.bytes().expect("body").to_vec())
    }

    /// POST a form (`application/x-www-form-urlencoded`).
    pub fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.post_form_with(path, fields, &[])
    }

    /// POST a form with extra headers.
    pub fn post_form_with(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut rb = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        Page::of(self.request(rb).send().expect("request sent"))
    }
}
