//! Open311 GeoReport v2 `GET /console/open311/v2/requests.json`: the cases an account may read,
//! as the service requests the core's export builds (`Open311Request::of`, the same fields and
//! field check as `waystation report export --format open311`), so the city's 12345 hotline
//! system reads them with a standard GeoReport v2 client.
//!
//! Who may read: a console session (cookie), or `Authorization: Bearer <token>` with a token
//! `waystation-server` issued (checked like `/v1`: expiry, revocation, the rate limit, and a
//! wrong token counts against the address's sign-in limit). Either way the account sees what
//! its `/v1` devices may read, through `query::visible_cases`; riders have no console.
//!
//! Parameters: the list's filters (`district`, `category`, `group`, `q`, …; see
//! `query::filter`), and GeoReport v2's own:
//! - `service_request_id`: one or more report ids, comma-separated; when given, every other
//!   parameter is ignored (as the specification says);
//! - `service_code`: one or more category codes, comma-separated;
//! - `status`: `open` or `closed` (or both), Open311's two statuses (a withdrawn report is
//!   closed); here it is not the list's case-status filter;
//! - `start_date` / `end_date`: RFC 3339 times bounding `requested_datetime` (submission).
//!   Without them the last 90 days; they may not span more than 90 days;
//! - `jurisdiction_id`: accepted and ignored (one server is one jurisdiction).
//!
//! Errors are GeoReport v2's: a JSON array of `{"code", "description"}`, the description
//! naming the parameter and never stored data.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use waystation_core::reports::{Category, Open311Request, ReportId};
use waystation_core::sync::policy::{Account, Role};

use crate::console::cases::blocking;
use crate::console::query::{self, CaseFilter};
use crate::console::session::ConsoleUser;
use crate::error::ApiError;
use crate::http::AppState;

/// GeoReport v2's longest `start_date`..`end_date` span, and the default window.
pub const MAX_SPAN_DAYS: i64 = 90;

/// Open311's own parameters, taken out before the list's filter reads the rest.
const OPEN311_KEYS: [&str; 6] = [
    "service_request_id",
    "service_code",
    "status",
    "start_date",
    "end_date",
    "jurisdiction_id",
];

/// GeoReport v2's parameters of one request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Open311Params {
    /// Only these reports (every other parameter ignored).
    pub ids: Option<Vec<ReportId>>,
    /// Only these categories.
    pub codes: Option<Vec<Category>>,
    /// Only open (`Some(false)`) or only closed (`Some(true)`).
    pub closed: Option<bool>,
    /// Submitted at or after.
    pub start: DateTime<Utc>,
    /// Submitted at or before.
    pub end: DateTime<Utc>,
}

/// A refusal in GeoReport v2's error shape.
#[derive(Debug)]
pub struct Open311Error {
    /// HTTP status (also the error's `code`).
    pub status: StatusCode,
    /// What was wrong, naming the parameter.
    pub description: String,
}

impl Open311Error {
    fn bad(description: impl Into<String>) -> Open311Error {
        Open311Error {
            status: StatusCode::BAD_REQUEST,
            description: description.into(),
        }
    }
}

impl From<ApiError> for Open311Error {
    fn from(e: ApiError) -> Open311Error {
        let description = if e.status == StatusCode::INTERNAL_SERVER_ERROR {
            "the server could not answer; try again later".to_string()
        } else {
            e.message
        };
        Open311Error {
            status: e.status,
            description,
        }
    }
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        let body = json!([{ "code": self.status.as_u16(), "description": self.description }]);
        json_response(self.status, &body)
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

fn time(name: &str, value: &str) -> Result<DateTime<Utc>, Open311Error> {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            Open311Error::bad(format!(
                "{name} is not an RFC 3339 time such as 2026-11-30T00:00:00+08:00"
            ))
        })
}

fn list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// Splits a query string into GeoReport v2's parameters and the rest (the list's filter).
pub fn parse(
    query: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(Open311Params, CaseFilter), Open311Error> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |k: &str| {
        pairs
            .iter()
            .rev()
            .find(|(key, v)| key == k && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
    };
    let rest: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            pairs
                .iter()
                .filter(|(k, _)| !OPEN311_KEYS.contains(&k.as_str())),
        )
        .finish();
    let filter = CaseFilter::parse(Some(&rest)).map_err(|e| Open311Error::bad(e.to_string()))?;
    let ids = get("service_request_id")
        .map(|v| {
            list(v)
                .map(|id| {
                    ReportId::parse(id).map_err(|_| {
                        Open311Error::bad("service_request_id is not a list of report ids")
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let codes = get("service_code")
        .map(|v| {
            list(v)
                .map(|c| {
                    c.parse::<Category>().map_err(|_| {
                        Open311Error::bad(format!(
                            "service_code '{}' is not a category code such as food.seal",
                            c.chars().take(40).collect::<String>()
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let closed = match get("status").map(|v| list(v).collect::<Vec<_>>()) {
        None => None,
        Some(statuses) => {
            let (open, closed) = (statuses.contains(&"open"), statuses.contains(&"closed"));
            if statuses.iter().any(|s| *s != "open" && *s != "closed") {
                return Err(Open311Error::bad("status must be open, closed or both"));
            }
            if open == closed { None } else { Some(closed) }
        }
    };
    let end = get("end_date")
        .map(|v| time("end_date", v))
        .transpose()?
        .unwrap_or(now);
    let start = get("start_date")
        .map(|v| time("start_date", v))
        .transpose()?
        .unwrap_or(end - Duration::days(MAX_SPAN_DAYS));
    if start > end {
        return Err(Open311Error::bad("start_date is after end_date"));
    }
    if end - start > Duration::days(MAX_SPAN_DAYS) {
        return Err(Open311Error::bad(format!(
            "start_date and end_date span {} days; GeoReport v2 allows at most {MAX_SPAN_DAYS}",
            (end - start).num_days()
        )));
    }
    Ok((
        Open311Params {
            ids,
            codes,
            closed,
            start,
            end,
        },
        filter,
    ))
}

/// The service requests of the cases `account` may read that the parameters select, newest
/// first.
pub fn select(
    tx: &dyn crate::store::StoreTx,
    account: &Account,
    params: &Open311Params,
    filter: &CaseFilter,
    now: DateTime<Utc>,
) -> Result<Vec<Open311Request>, ApiError> {
    let rows = match &params.ids {
        Some(ids) => {
            let mut rows = Vec::new();
            for id in ids {
                if let Some(row) = query::visible_case(tx, account, id)? {
                    rows.push(row);
                }
            }
            rows
        }
        None => query::visible_cases(tx, account, filter, now)?
            .into_iter()
            .filter(|r| {
                params
                    .codes
                    .as_ref()
                    .is_none_or(|c| c.contains(&r.category))
            })
            .filter(|r| r.created >= params.start && r.created <= params.end)
            .collect(),
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let req = Open311Request::of(&r.report, &r.case)
            .map_err(|e| ApiError::internal(format!("open311 export: {e}")))?;
        let closed = req.status == waystation_core::reports::Open311Status::Closed;
        if params.ids.is_some() || params.closed.is_none_or(|c| c == closed) {
            out.push(req);
        }
    }
    Ok(out)
}

/// The account of the request: a bearer token when one is sent, else the console session.
async fn reader(state: &AppState, request: Request) -> Result<Account, Response> {
    if request.headers().contains_key(header::AUTHORIZATION) {
        let who = crate::http::authenticate(state, request.headers())
            .await
            .map_err(|e| Open311Error::from(e).into_response())?;
        if who.account.role == Role::Rider {
            return Err(Open311Error {
                status: StatusCode::FORBIDDEN,
                description: "riders have no console: this feed is for follow-up accounts".into(),
            }
            .into_response());
        }
        return Ok(who.account);
    }
    let (mut parts, _) = request.into_parts();
    ConsoleUser::from_request_parts(&mut parts, state)
        .await
        .map(|u| u.account)
}

/// `GET /console/open311/v2/requests.json`.
pub(crate) async fn requests(State(state): State<AppState>, request: Request) -> Response {
    let now = state.clock.now();
    let (params, filter) = match parse(request.uri().query(), now) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let account = match reader(&state, request).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let db = state.db.clone();
    let found =
        blocking(move || select(db.read()?.as_ref(), &account, &params, &filter, now)).await;
    match found {
        Ok(requests) => match serde_json::to_value(&requests) {
            Ok(body) => json_response(StatusCode::OK, &body),
            Err(e) => {
                Open311Error::from(ApiError::internal(format!("open311 json: {e}"))).into_response()
            }
        },
        Err(e) => Open311Error::from(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 4, 0, 0).unwrap()
    }

    #[test]
    fn open311_parameters_are_taken_apart_from_the_list_filter() {
        let (p, f) = parse(
            Some("district=610113&status=closed&service_code=food.seal,road.hazard&q=%E5%A4%96%E5%8D%96"),
            now(),
        )
        .unwrap();
        assert_eq!(f.district.as_deref(), Some("610113"));
        assert_eq!(f.q.as_deref(), Some("外卖"));
        // Open311's status is not the list's case status.
        assert_eq!(f.status, None);
        assert_eq!(p.closed, Some(true));
        assert_eq!(
            p.codes,
            Some(vec![Category::FoodSeal, Category::RoadHazard])
        );
        assert_eq!(p.end, now());
        assert_eq!(p.start, now() - Duration::days(90));
        let (p, _) = parse(Some("status=open,closed"), now()).unwrap();
        assert_eq!(p.closed, None);
        let (p, _) = parse(
            Some("start_date=2026-11-01T00:00:00%2B08:00&end_date=2026-11-30T00:00:00Z"),
            now(),
        )
        .unwrap();
        assert_eq!(
            p.start,
            Utc.with_ymd_and_hms(2026, 10, 31, 16, 0, 0).unwrap()
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        for (q, needle) in [
            ("status=acknowledged", "status must be open, closed"),
            ("service_code=food.nope", "service_code 'food.nope'"),
            ("service_request_id=x", "service_request_id"),
            ("start_date=yesterday", "start_date is not an RFC 3339"),
            ("end_date=2026-13-01", "end_date is not an RFC 3339"),
            (
                "start_date=2026-01-01T00:00:00Z&end_date=2026-11-01T00:00:00Z",
                "span 304 days",
            ),
            (
                "start_date=2026-11-02T00:00:00Z&end_date=2026-11-01T00:00:00Z",
                "start_date is after end_date",
            ),
            ("district=61011", "district"),
        ] {
            let e = parse(Some(q), now()).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
            assert!(e.description.contains(needle), "{q}: {}", e.description);
        }
    }
}
