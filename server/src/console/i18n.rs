//! The console's two languages: Chinese first (the district offices and grid workers who use
//! it), English second. Every piece of UI text goes through [`t`], so a page cannot show a
//! string that has no translation; user data (descriptions, merchants) is shown as written.
//!
//! The language is `?lang=zh|en` when given (and then remembered in a `console_lang` cookie),
//! else that cookie, else the browser's `Accept-Language` (the first of `zh*`/`en*` by
//! q-value), else Chinese.

use axum::http::HeaderMap;
use axum::http::header;

/// A console language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    /// 简体中文, the default.
    #[default]
    Zh,
    /// English.
    En,
}

/// The cookie that remembers a `?lang=` choice.
pub const LANG_COOKIE: &str = "console_lang";

impl Lang {
    /// `zh-CN` or `en`, for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// `zh` or `en`, for `?lang=`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The other language (the switch link).
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// `zh`/`zh-CN`/`en`/`en-GB`… as a language, `None` for anything else.
    pub fn parse(s: &str) -> Option<Lang> {
        let primary = s.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language of a request: `?lang=`, then the cookie, then `Accept-Language`.
    pub fn of_request(query: Option<&str>, headers: &HeaderMap) -> Lang {
        let from_query = query.and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "lang")
                .and_then(|(_, v)| Lang::parse(&v))
        });
        from_query
            .or_else(|| super::session::cookie(headers, LANG_COOKIE).and_then(|v| Lang::parse(&v)))
            .or_else(|| {
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(from_accept_language)
            })
            .unwrap_or_default()
    }

    /// The colon after a label: full-width in Chinese (`：`), `": "` in English.
    pub fn colon(self) -> &'static str {
        self.pick("：", ": ")
    }

    /// A label in this language.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// The best of Chinese and English in an `Accept-Language` value, by q-value (ties: the
/// first listed).
fn from_accept_language(value: &str) -> Option<Lang> {
    let mut best: Option<(Lang, f32)> = None;
    for part in value.split(',') {
        let mut pieces = part.split(';');
        let Some(lang) = pieces.next().and_then(Lang::parse) else {
            continue;
        };
        let q = pieces
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
            best = Some((lang, q));
        }
    }
    best.map(|(l, _)| l)
}

/// Every UI string of the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Key {
    AppName,
    SkipToContent,
    NavCases,
    NavMap,
    NavFigures,
    Logout,
    SignedInAs,
    LanguageSwitch,
    // Sign-in.
    LoginTitle,
    LoginIntro,
    LoginToken,
    LoginTokenHelp,
    LoginSubmit,
    LoginFailed,
    LoginLimited,
    RiderNoConsole,
    SessionEnded,
    // Errors.
    ErrorTitle,
    NotFound,
    Forbidden,
    CsrfFailed,
    BadRequest,
    ServerError,
    BackToCases,
    // Cases list.
    CasesTitle,
    CasesCaption,
    Filters,
    District,
    AllDistricts,
    Category,
    AllCategories,
    Group,
    AllGroups,
    Status,
    AllStatuses,
    OpenedAfter,
    OpenedBefore,
    AgeDays,
    Search,
    SearchHelp,
    Apply,
    Reset,
    Created,
    Merchant,
    Address,
    Description,
    NoCases,
    PageOf,
    Previous,
    Next,
    Results,
    SortAscending,
    SortDescending,
    // Case page.
    CaseTitle,
    Report,
    Position,
    Photos,
    NoPhotos,
    Timeline,
    NoEvents,
    When,
    Who,
    Role,
    What,
    NotApplied,
    Actions,
    NoActions,
    Acknowledge,
    Dispatch,
    GridId,
    Note,
    NoteText,
    Resolve,
    Reject,
    Reason,
    ActionDone,
    Withdrawn,
    AdminReadOnly,
    Author,
    Acknowledged,
    Closed,
    Grid,
    // The actions added with request info, mark duplicate and reopen.
    RequestInfo,
    RequestInfoText,
    MarkDuplicate,
    Reopen,
    ReopenText,
    GridsOfDistrict,
    DuplicateCandidates,
    NoDuplicateCandidates,
    DuplicateOfId,
    DuplicateOfOtherId,
    DuplicateOfIdHelp,
    OpenCase,
    DuplicateOf,
}

/// `key` in `lang`.
pub fn t(lang: Lang, key: Key) -> &'static str {
    let (zh, en) = text(key);
    lang.pick(zh, en)
}

fn text(key: Key) -> (&'static str, &'static str) {
    use Key::*;
    match key {
        AppName => ("驿站随访台", "Waystation follow-up console"),
        SkipToContent => ("跳到正文", "Skip to content"),
        NavCases => ("案件", "Cases"),
        NavMap => ("地图", "Map"),
        NavFigures => ("统计", "Figures"),
        Logout => ("退出登录", "Sign out"),
        SignedInAs => ("当前账号", "Signed in as"),
        LanguageSwitch => ("English", "中文"),
        LoginTitle => ("登录", "Sign in"),
        LoginIntro => (
            "请输入管理员为您签发的访问令牌（以 wst_ 开头）。令牌只用于换取本次登录，不会保存在浏览器中。",
            "Enter the access token an administrator issued to you (it starts with wst_). It is \
             exchanged for this sign-in and not kept in the browser.",
        ),
        LoginToken => ("访问令牌", "Access token"),
        LoginTokenHelp => (
            "与手机应用使用的令牌相同。",
            "The same token the phone apps use.",
        ),
        LoginSubmit => ("登录", "Sign in"),
        LoginFailed => ("登录失败", "Sign-in failed"),
        LoginLimited => (
            "来自此地址的错误令牌过多，请稍后再试。",
            "Too many wrong tokens from this address; try again later.",
        ),
        RiderNoConsole => (
            "骑手账号没有随访台：请在手机应用中查看您的报告。随访台供驿站、网格员、监督员和管理员使用。",
            "Rider accounts have no console: follow your reports in the phone app. The console \
             is for station staff, grid workers, supervisors and administrators.",
        ),
        SessionEnded => (
            "登录已失效，请重新登录。",
            "Your session has ended; please sign in again.",
        ),
        ErrorTitle => ("出错了", "Something went wrong"),
        NotFound => (
            "没有这个页面，或您的账号无权查看。",
            "No such page, or this account may not see it.",
        ),
        Forbidden => ("此账号无权执行该操作。", "This account may not do that."),
        CsrfFailed => (
            "表单已过期或来源不明，请返回后重试。",
            "The form is stale or came from elsewhere; go back and try again.",
        ),
        BadRequest => ("请求有误", "Bad request"),
        ServerError => (
            "服务器内部错误，请稍后再试。",
            "Internal server error; please try again later.",
        ),
        BackToCases => ("返回案件列表", "Back to the cases"),
        CasesTitle => ("案件", "Cases"),
        CasesCaption => ("您的辖区内的案件", "Cases in this account's districts"),
        Filters => ("筛选", "Filters"),
        District => ("辖区", "District"),
        AllDistricts => ("全部辖区", "All districts"),
        Category => ("类别", "Category"),
        AllCategories => ("全部类别", "All categories"),
        Group => ("类别组", "Category group"),
        AllGroups => ("全部类别组", "All groups"),
        Status => ("状态", "Status"),
        AllStatuses => ("全部状态", "All statuses"),
        OpenedAfter => ("提交于此日期之后", "Opened on or after"),
        OpenedBefore => ("提交于此日期之前", "Opened before"),
        AgeDays => ("至少已有天数", "At least this many days old"),
        Search => ("搜索", "Search"),
        SearchHelp => (
            "商户名、地址或描述中的文字",
            "Text in the merchant, address or description",
        ),
        Apply => ("应用", "Apply"),
        Reset => ("清除", "Clear"),
        Created => ("提交时间", "Opened"),
        Merchant => ("商户", "Merchant"),
        Address => ("地址", "Address"),
        Description => ("描述", "Description"),
        NoCases => ("没有符合条件的案件。", "No cases match."),
        PageOf => ("页", "Page"),
        Previous => ("上一页", "Previous"),
        Next => ("下一页", "Next"),
        Results => ("条结果", "results"),
        SortAscending => ("升序", "ascending"),
        SortDescending => ("降序", "descending"),
        CaseTitle => ("案件详情", "Case"),
        Report => ("报告", "Report"),
        Position => ("位置（WGS-84）", "Position (WGS-84)"),
        Photos => ("照片", "Photos"),
        NoPhotos => ("没有照片。", "No photos."),
        Timeline => ("处理记录", "Timeline"),
        NoEvents => ("尚无处理记录。", "No events yet."),
        When => ("时间", "When"),
        Who => ("处理人", "Who"),
        Role => ("角色", "Role"),
        What => ("事项", "What"),
        NotApplied => ("未生效", "not applied"),
        Actions => ("处理", "Actions"),
        NoActions => (
            "此账号在当前状态下没有可执行的操作。",
            "This account has no action to take in this state.",
        ),
        Acknowledge => ("受理", "Acknowledge"),
        Dispatch => ("派发到网格", "Dispatch to a grid"),
        GridId => ("网格编号", "Grid id"),
        Note => ("添加备注", "Add a note"),
        NoteText => ("备注", "Note"),
        Resolve => ("办结", "Resolve"),
        Reject => ("不予处理", "Reject"),
        Reason => ("原因", "Reason"),
        ActionDone => ("已保存，将同步到手机。", "Saved; it syncs to the phones."),
        Withdrawn => ("报告人已撤回此报告。", "The reporter withdrew this report."),
        AdminReadOnly => (
            "管理员只读：处理由驿站、监督员和网格员完成。",
            "Administrators read only: station staff, supervisors and grid workers act.",
        ),
        Author => ("报告人", "Reporter"),
        Acknowledged => ("受理时间", "Acknowledged"),
        Closed => ("结案时间", "Closed"),
        Grid => ("网格", "Grid"),
        RequestInfo => ("要求补充信息", "Request more information"),
        RequestInfoText => ("需要补充什么", "What is needed"),
        MarkDuplicate => ("标记为重复", "Mark as a duplicate"),
        Reopen => ("重新打开", "Reopen"),
        ReopenText => ("重新打开的原因", "Why it is reopened"),
        GridsOfDistrict => ("本辖区用过的网格", "Grids used in this district"),
        DuplicateCandidates => ("附近的同类报告", "Nearby reports of the same kind"),
        NoDuplicateCandidates => ("附近没有同类报告", "No nearby report of the same kind"),
        DuplicateOfId => ("所重复的报告编号", "Id of the report it duplicates"),
        DuplicateOfOtherId => ("或输入其他报告的编号", "Or the id of another report"),
        DuplicateOfIdHelp => (
            "报告编号是案件页地址末尾的那一串（UUID）。案件将按重复结案，由那份报告继续跟进。",
            "The id is the last part of a case page's address (a UUID). This case closes as a \
             duplicate; the other report is followed instead.",
        ),
        OpenCase => ("查看", "Open"),
        DuplicateOf => ("重复于", "Duplicate of"),
    }
}

/// A case status's label.
pub fn status_label(lang: Lang, s: waystation_core::reports::CaseStatus) -> &'static str {
    use waystation_core::reports::CaseStatus as S;
    let (zh, en) = match s {
        S::Open => ("待受理", "Open"),
        S::Acknowledged => ("已受理", "Acknowledged"),
        S::InProgress => ("处理中", "In progress"),
        S::Resolved => ("已办结", "Resolved"),
        S::Rejected => ("不予处理", "Rejected"),
        S::Duplicate => ("重复", "Duplicate"),
    };
    lang.pick(zh, en)
}

/// A category group's label.
pub fn group_label(lang: Lang, g: waystation_core::reports::CategoryGroup) -> &'static str {
    use waystation_core::reports::CategoryGroup as G;
    let (zh, en) = match g {
        G::Food => ("食品安全", "Food safety"),
        G::Road => ("道路交通", "Road and traffic"),
        G::Access => ("通行", "Access for riders"),
        G::Station => ("驿站", "Red stations"),
        G::Other => ("其他", "Other"),
    };
    lang.pick(zh, en)
}

/// A case event kind's label.
pub fn event_label(lang: Lang, kind: &waystation_core::reports::CaseEventKind) -> &'static str {
    use waystation_core::reports::CaseEventKind as K;
    let (zh, en) = match kind {
        K::Acknowledge => ("受理", "Acknowledged"),
        K::Note => ("备注", "Note"),
        K::RequestInfo => ("补充信息", "More information requested"),
        K::Dispatch { .. } => ("派发", "Dispatched"),
        K::MarkDuplicate { .. } => ("标记重复", "Marked duplicate"),
        K::Resolve => ("办结", "Resolved"),
        K::Reject { .. } => ("不予处理", "Rejected"),
        K::Reopen => ("重新打开", "Reopened"),
    };
    lang.pick(zh, en)
}

/// A case role's label.
pub fn role_label(lang: Lang, r: waystation_core::reports::CaseRole) -> &'static str {
    use waystation_core::reports::CaseRole as R;
    let (zh, en) = match r {
        R::Rider => ("骑手", "Rider"),
        R::StationStaff => ("驿站工作人员", "Station staff"),
        R::Supervisor => ("监督员", "Supervisor"),
        R::GridWorker => ("网格员", "Grid worker"),
    };
    lang.pick(zh, en)
}

/// A district's name.
pub fn district_label(lang: Lang, code: &str) -> String {
    match waystation_core::geo::District::by_code(code) {
        Some(d) => lang.pick(d.name_zh, d.name_en).to_string(),
        None => code.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_language_comes_from_the_query_the_cookie_then_the_browser() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::of_request(None, &h), Lang::Zh);
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("en-GB,en;q=0.9,zh-CN;q=0.8"),
        );
        assert_eq!(Lang::of_request(None, &h), Lang::En);
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("fr, zh-CN;q=0.9, en;q=0.5"),
        );
        assert_eq!(Lang::of_request(None, &h), Lang::Zh);
        assert_eq!(Lang::of_request(Some("q=x&lang=en"), &h), Lang::En);
        h.insert(header::COOKIE, HeaderValue::from_static("console_lang=en"));
        assert_eq!(Lang::of_request(None, &h), Lang::En);
        assert_eq!(Lang::of_request(Some("lang=zh"), &h), Lang::Zh);
        // Nothing usable: Chinese.
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("de, fr;q=0.5"),
        );
        assert_eq!(Lang::of_request(Some("lang=xx"), &h), Lang::Zh);
    }

    #[test]
    fn every_key_has_both_languages() {
        for key in [
            Key::AppName,
            Key::RiderNoConsole,
            Key::Grid,
            Key::SearchHelp,
            Key::RequestInfo,
            Key::MarkDuplicate,
            Key::Reopen,
            Key::DuplicateOfIdHelp,
        ] {
            assert!(!t(Lang::Zh, key).is_empty() && !t(Lang::En, key).is_empty());
            assert_ne!(t(Lang::Zh, key), t(Lang::En, key));
        }
    }
}
