//! Xi'an's districts and counties, by GB/T 2260 code.
//!
//! A report's district decides who follows it up: the sync server lets station staff,
//! supervisors and grid workers read the reports of their districts. So a district on a report
//! must be one the follow-up side knows, and this closed list is what "known" means. It is the
//! same list as the station pack generator's (`data/stations/generate.py`) and
//! `docs/formats/station-pack.md`; station packs themselves are checked for the code's shape
//! only, so a pack may name a code outside it (a neighbouring city, a future district), and
//! such a code is simply not used for reports.

use serde::Serialize;

/// Whether an area is a district (区) or a county (县); both are direct subdivisions of the city.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DistrictKind {
    /// 区, an urban or suburban district.
    District,
    /// 县, a rural county.
    County,
}

/// A district or county of Xi'an.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct District {
    /// GB/T 2260 code, six digits, e.g. `610113`.
    pub code: &'static str,
    /// Chinese name, e.g. `雁塔区`.
    pub name_zh: &'static str,
    /// English name, e.g. `Yanta`.
    pub name_en: &'static str,
    /// District or county.
    pub kind: DistrictKind,
}

/// A district or county as a picker lists it (`xianDistricts()` in the bindings): like
/// [`District`], in owned text that crosses the FFI.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DistrictInfo {
    /// GB/T 2260 code, six digits, e.g. `610113`: what a report's district takes.
    pub code: String,
    /// Chinese name, e.g. `雁塔区`.
    pub name_zh: String,
    /// English name, e.g. `Yanta`.
    pub name_en: String,
    /// True for a county (县), false for a district (区).
    pub is_county: bool,
}

impl District {
    /// This district as a picker lists it.
    pub fn info(&self) -> DistrictInfo {
        DistrictInfo {
            code: self.code.to_string(),
            name_zh: self.name_zh.to_string(),
            name_en: self.name_en.to_string(),
            is_county: self.kind == DistrictKind::County,
        }
    }
}

/// GB/T 2260 code of Xi'an itself (the prefix of every code in [`XIAN_DISTRICTS`]).
pub const XIAN_CODE: &str = "6101";

const fn d(code: &'static str, zh: &'static str, en: &'static str) -> District {
    District {
        code,
        name_zh: zh,
        name_en: en,
        kind: DistrictKind::District,
    }
}

const fn c(code: &'static str, zh: &'static str, en: &'static str) -> District {
    District {
        code,
        name_zh: zh,
        name_en: en,
        kind: DistrictKind::County,
    }
}

/// Xi'an's 11 districts and 2 counties, in code order.
pub const XIAN_DISTRICTS: [District; 13] = [
    d("610102", "新城区", "Xincheng"),
    d("610103", "碑林区", "Beilin"),
    d("610104", "莲湖区", "Lianhu"),
    d("610111", "灞桥区", "Baqiao"),
    d("610112", "未央区", "Weiyang"),
    d("610113", "雁塔区", "Yanta"),
    d("610114", "阎良区", "Yanliang"),
    d("610115", "临潼区", "Lintong"),
    d("610116", "长安区", "Chang'an"),
    d("610117", "高陵区", "Gaoling"),
    d("610118", "鄠邑区", "Huyi"),
    c("610122", "蓝田县", "Lantian"),
    c("610124", "周至县", "Zhouzhi"),
];

impl District {
    /// The district with this exact code, or `None` when it is not one of [`XIAN_DISTRICTS`].
    pub fn by_code(code: &str) -> Option<&'static District> {
        XIAN_DISTRICTS.iter().find(|d| d.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_six_digit_xian_codes_and_found() {
        assert!(XIAN_DISTRICTS.windows(2).all(|w| w[0].code < w[1].code));
        for d in &XIAN_DISTRICTS {
            assert_eq!(d.code.len(), 6);
            assert!(d.code.starts_with(XIAN_CODE));
            assert_eq!(District::by_code(d.code), Some(d));
        }
        assert_eq!(District::by_code("610113").unwrap().name_en, "Yanta");
        assert_eq!(
            District::by_code("610124").unwrap().kind,
            DistrictKind::County
        );
        for bad in ["", "6101", "610101", "610199", " 610113", "610113 "] {
            assert!(District::by_code(bad).is_none(), "{bad}");
        }
    }
}
