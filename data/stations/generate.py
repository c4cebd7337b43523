#!/usr/bin/env python3
"""Generates the unsigned payload of the Xi'an sample station pack.

    python3 data/stations/generate.py [--out PATH]

writes data/stations/xian-sample.payload.json (next to this script) unless --out is given.
The output is deterministic: the same bytes on every run (fixed seed, fixed iteration order,
standard library only). Sign it with

    cargo run -p waystation-cli -- pack sign --key data/keys/demo-publisher.json \
        --in data/stations/xian-sample.payload.json --out data/stations/xian-sample.pack.json

Everything about the stations is SYNTHETIC: positions, names, phone numbers, addresses and
operators are made up for testing. Only the district codes, the district centres (roughly) and
many road and place names are real. The format is documented in docs/formats/station-pack.md
and enforced by core/src/stations/pack.rs.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import math
import random
import sys
from pathlib import Path

SEED = 20240615
STATION_COUNT = 1120
DEFAULT_OUT = Path(__file__).resolve().parent / "xian-sample.payload.json"

HEADER = {
    "format": "waystation/station-pack",
    "format_version": 1,
    "pack_id": "xian-red-stations",
    "version": 1,
    "publisher": "Waystation demo publisher (not the City of Xi'an)",
    "created": "2026-11-28T00:00:00Z",
    "synthetic": True,
    "notice": (
        "示例数据：本数据包中驿站的位置、名称、电话和地址均为合成数据，仅供测试使用，"
        "并非真实的红色驿站。"
        " Sample data: the positions, names, phone numbers and addresses of the stations in "
        "this pack are synthetic, generated for testing; they are not real stations."
    ),
}

# The closed service vocabulary, in the order of core/src/stations/service.rs.
SERVICES = [
    "drinking_water",
    "rest_area",
    "phone_charging",
    "ebike_charging",
    "battery_swap",
    "first_aid_kit",
    "microwave",
    "toilet",
    "legal_aid",
    "tax_service",
    "union_desk",
    "wifi",
    "air_conditioning",
    "repair_tools",
    "umbrella_lending",
    "hot_water",
]

# Probability of each service at a station, before the host adjusts it. Chosen so that the
# pack-wide rates come out near: water/rest/phone ~97%, e-bike 55%, battery swap 15%,
# first aid 80%, microwave 60%, toilet 50%, legal aid 12%, tax 6%, union desk 25%.
BASE_SERVICE_P = {
    "drinking_water": 0.985,
    "rest_area": 0.975,
    "phone_charging": 0.97,
    "ebike_charging": 0.51,
    "battery_swap": 0.09,
    "first_aid_kit": 0.80,
    "microwave": 0.55,
    "toilet": 0.43,
    "legal_aid": 0.07,
    "tax_service": 0.04,
    "union_desk": 0.14,
    "wifi": 0.45,
    "air_conditioning": 0.55,
    "repair_tools": 0.28,
    "umbrella_lending": 0.35,
    "hot_water": 0.55,
}

# Opening hours (OSM syntax) and their base weights.
HOURS = [
    ("Mo-Su 08:00-20:00", 22),
    ("Mo-Su 07:00-22:00", 12),
    ("24/7", 12),
    ("Mo-Fr 09:00-18:00; Sa,Su 10:00-16:00", 10),
    ("Mo-Fr 08:30-17:30; PH off", 10),
    ("Mo-Su 10:00-14:00,17:00-22:00", 8),
    ("Mo-Sa 09:00-21:00; Su off", 6),
    ("Mo-Su 08:00-20:00; PH 09:00-17:00", 6),
    ("Mo-Fr 08:00-18:00; Sa 09:00-13:00; Su,PH off", 5),
    ("Mo-Su 06:30-23:30", 4),
    ("Mo-Su 20:00-02:00", 3),
]
# Strings the app cannot parse; it must show these stations' status as Unknown.
UNPARSEABLE_HOURS = ["白天营业", "call ahead", "工作日白天，节假日另行通知", "早九点到晚八点", "ask staff"]

# Who hosts a station: name pattern, relative frequency, service and hours adjustments.
HOSTS = {
    "road": {
        "weight": 30,
        "services": {},
        "hours": {},
    },
    "community": {
        "weight": 24,
        "services": {"legal_aid": 0.22, "tax_service": 0.12, "toilet": 0.70, "union_desk": 0.25},
        "hours": {"Mo-Fr 08:30-17:30; PH off": 30, "Mo-Su 08:00-20:00; PH 09:00-17:00": 20},
    },
    "union": {
        "weight": 10,
        "services": {"union_desk": 0.85, "legal_aid": 0.35, "tax_service": 0.10},
        "hours": {"Mo-Fr 08:30-17:30; PH off": 20, "Mo-Fr 09:00-18:00; Sa,Su 10:00-16:00": 20},
    },
    "convenience": {
        "weight": 11,
        "services": {"microwave": 0.80, "toilet": 0.25, "hot_water": 0.70},
        "hours": {"24/7": 30, "Mo-Su 07:00-22:00": 30, "Mo-Su 06:30-23:30": 15},
    },
    "bank": {
        "weight": 8,
        "services": {"toilet": 0.40, "ebike_charging": 0.35, "wifi": 0.70,
                     "air_conditioning": 0.85, "tax_service": 0.10, "legal_aid": 0.10},
        "hours": {"Mo-Fr 09:00-18:00; Sa,Su 10:00-16:00": 35, "Mo-Fr 08:30-17:30; PH off": 20,
                  "24/7": 2, "Mo-Su 20:00-02:00": 0, "Mo-Su 10:00-14:00,17:00-22:00": 0},
    },
    "gas": {
        "weight": 6,
        "services": {"toilet": 0.90, "battery_swap": 0.30, "ebike_charging": 0.70},
        "hours": {"24/7": 60, "Mo-Su 06:30-23:30": 20},
    },
    "hub": {
        "weight": 11,
        "services": {"battery_swap": 0.55, "ebike_charging": 0.85, "repair_tools": 0.60,
                     "microwave": 0.75},
        "hours": {"24/7": 30, "Mo-Su 10:00-14:00,17:00-22:00": 30, "Mo-Su 20:00-02:00": 12},
    },
}

# Xi'an's districts and counties (GB/T 2260), with an approximate WGS-84 centre of where
# people live and work, the spread radius (km, about two standard deviations), the number of
# sample stations, roads used in names and addresses, 街道/镇 (subdistricts and towns; used for
# operators and community names), and other landmarks.
DISTRICTS = [
    {
        "code": "610102", "zh": "新城区", "en": "Xincheng", "kind": "District",
        "centre": (34.2700, 108.9700), "radius_km": 3.0, "count": 95,
        "roads": [
            ("北大街", "North Street"), ("解放路", "Jiefang Road"), ("东五路", "Dongwu Road"),
            ("长乐中路", "Changle Middle Road"), ("长乐西路", "Changle West Road"),
            ("自强东路", "Ziqiang East Road"), ("幸福中路", "Xingfu Middle Road"),
            ("康复路", "Kangfu Road"), ("尚德路", "Shangde Road"), ("西一路", "Xiyi Road"),
            ("含元路", "Hanyuan Road"), ("太华南路", "Taihua South Road"),
            ("环城北路", "Huancheng North Road"), ("金花北路", "Jinhua North Road"),
            ("韩森路", "Hansen Road"),
        ],
        "streets": [
            ("西一路", "Xiyi Road", "街道"), ("长乐中路", "Changle Middle Road", "街道"),
            ("中山门", "Zhongshanmen", "街道"), ("韩森寨", "Hansenzhai", "街道"),
            ("解放门", "Jiefangmen", "街道"), ("自强路", "Ziqiang Road", "街道"),
            ("太华路", "Taihua Road", "街道"), ("长乐西路", "Changle West Road", "街道"),
            ("胡家庙", "Hujiamiao", "街道"),
        ],
        "landmarks": [
            ("五路口", "Wulukou"), ("大明宫", "Daming Palace"), ("西安站", "Xi'an Railway Station"),
            ("八府庄", "Bafuzhuang"), ("长乐公园", "Changle Park"), ("钟楼", "Bell Tower"),
        ],
    },
    {
        "code": "610103", "zh": "碑林区", "en": "Beilin", "kind": "District",
        "centre": (34.2450, 108.9550), "radius_km": 2.5, "count": 95,
        "roads": [
            ("南大街", "South Street"), ("东大街", "East Street"), ("书院门", "Shuyuanmen"),
            ("文艺路", "Wenyi Road"), ("文艺北路", "Wenyi North Road"),
            ("长安北路", "Chang'an North Road"), ("友谊西路", "Youyi West Road"),
            ("友谊东路", "Youyi East Road"), ("太乙路", "Taiyi Road"),
            ("咸宁西路", "Xianning West Road"), ("兴庆路", "Xingqing Road"),
            ("东关正街", "Dongguan Main Street"), ("环城南路", "Huancheng South Road"),
            ("含光北路", "Hanguang North Road"), ("和平路", "Heping Road"),
            ("南关正街", "Nanguan Main Street"),
        ],
        "streets": [
            ("南院门", "Nanyuanmen", "街道"), ("柏树林", "Baishulin", "街道"),
            ("长乐坊", "Changlefang", "街道"), ("东关南街", "Dongguan South Street", "街道"),
            ("太乙路", "Taiyi Road", "街道"), ("文艺路", "Wenyi Road", "街道"),
            ("长安路", "Chang'an Road", "街道"), ("张家村", "Zhangjiacun", "街道"),
        ],
        "landmarks": [
            ("南门", "South Gate"), ("李家村", "Lijiacun"), ("南稍门", "Nanshaomen"),
            ("兴庆宫", "Xingqing Palace"), ("东关", "Dongguan"), ("和平门", "Hepingmen"),
        ],
    },
    {
        "code": "610104", "zh": "莲湖区", "en": "Lianhu", "kind": "District",
        "centre": (34.2700, 108.9100), "radius_km": 3.0, "count": 115,
        "roads": [
            ("劳动路", "Laodong Road"), ("劳动南路", "Laodong South Road"),
            ("西大街", "West Street"), ("北院门", "Beiyuanmen"), ("洒金桥", "Sajinqiao"),
            ("桃园路", "Taoyuan Road"), ("桃园南路", "Taoyuan South Road"),
            ("丰庆路", "Fengqing Road"), ("大庆路", "Daqing Road"), ("红光路", "Hongguang Road"),
            ("枣园东路", "Zaoyuan East Road"), ("莲湖路", "Lianhu Road"),
            ("环城西路", "Huancheng West Road"), ("西关正街", "Xiguan Main Street"),
            ("大兴西路", "Daxing West Road"), ("青年路", "Qingnian Road"),
        ],
        "streets": [
            ("北院门", "Beiyuanmen", "街道"), ("青年路", "Qingnian Road", "街道"),
            ("西关", "Xiguan", "街道"), ("环城西路", "Huancheng West Road", "街道"),
            ("桃园路", "Taoyuan Road", "街道"), ("土门", "Tumen", "街道"),
            ("红庙坡", "Hongmiaopo", "街道"), ("枣园", "Zaoyuan", "街道"),
            ("北关", "Beiguan", "街道"),
        ],
        "landmarks": [
            ("玉祥门", "Yuxiangmen"), ("劳动公园", "Laodong Park"), ("大兴", "Daxing"),
            ("莲湖公园", "Lianhu Park"), ("西稍门", "Xishaomen"),
        ],
    },
    {
        "code": "610111", "zh": "灞桥区", "en": "Baqiao", "kind": "District",
        "centre": (34.2700, 109.0600), "radius_km": 6.0, "count": 80,
        "roads": [
            ("纺正街", "Fangzheng Street"), ("长乐东路", "Changle East Road"),
            ("浐河东路", "Chanhe East Road"), ("半坡路", "Banpo Road"),
            ("欧亚大道", "Ouya Avenue"), ("世博大道", "Shibo Avenue"),
            ("浐灞大道", "Chanba Avenue"), ("田洪正街", "Tianhong Main Street"),
        ],
        "streets": [
            ("纺织城", "Fangzhicheng", "街道"), ("十里铺", "Shilipu", "街道"),
            ("红旗", "Hongqi", "街道"), ("席王", "Xiwang", "街道"),
            ("洪庆", "Hongqing", "街道"), ("狄寨", "Dizhai", "街道"),
            ("灞桥", "Baqiao", "街道"), ("新筑", "Xinzhu", "街道"), ("新合", "Xinhe", "街道"),
        ],
        "landmarks": [
            ("浐灞", "Chanba"), ("半坡", "Banpo"), ("长乐坡", "Changlepo"), ("田王", "Tianwang"),
            ("灞河", "Ba River"),
        ],
    },
    {
        "code": "610112", "zh": "未央区", "en": "Weiyang", "kind": "District",
        "centre": (34.3300, 108.9400), "radius_km": 6.0, "count": 150,
        "roads": [
            ("凤城二路", "Fengcheng 2nd Road"), ("凤城五路", "Fengcheng 5th Road"),
            ("凤城八路", "Fengcheng 8th Road"), ("未央路", "Weiyang Road"),
            ("文景路", "Wenjing Road"), ("明光路", "Mingguang Road"),
            ("太华北路", "Taihua North Road"), ("尚稷路", "Shangji Road"),
            ("开元路", "Kaiyuan Road"), ("朱宏路", "Zhuhong Road"),
            ("汉城北路", "Hancheng North Road"), ("北辰大道", "Beichen Avenue"),
            ("建章路", "Jianzhang Road"), ("三桥新街", "Sanqiao New Street"),
        ],
        "streets": [
            ("张家堡", "Zhangjiabao", "街道"), ("谭家", "Tanjia", "街道"),
            ("未央宫", "Weiyanggong", "街道"), ("汉城", "Hancheng", "街道"),
            ("大明宫", "Daminggong", "街道"), ("辛家庙", "Xinjiamiao", "街道"),
            ("徐家湾", "Xujiawan", "街道"), ("草滩", "Caotan", "街道"),
            ("六村堡", "Liucunbao", "街道"), ("三桥", "Sanqiao", "街道"),
            ("未央湖", "Weiyang Lake", "街道"),
        ],
        "landmarks": [
            ("行政中心", "Civic Centre"), ("西安北站", "Xi'an North Railway Station"),
            ("汉城湖", "Hancheng Lake"), ("经开区", "Economic Development Zone"),
            ("凤城", "Fengcheng"),
        ],
    },
    {
        "code": "610113", "zh": "雁塔区", "en": "Yanta", "kind": "District",
        "centre": (34.2200, 108.9500), "radius_km": 4.5, "count": 190,
        "roads": [
            ("小寨东路", "Xiaozhai East Road"), ("小寨西路", "Xiaozhai West Road"),
            ("长安中路", "Chang'an Middle Road"), ("长安南路", "Chang'an South Road"),
            ("含光路", "Hanguang Road"), ("电子正街", "Dianzi Main Street"),
            ("电子二路", "Dianzi 2nd Road"), ("高新路", "Gaoxin Road"), ("科技路", "Keji Road"),
            ("科技二路", "Keji 2nd Road"), ("太白南路", "Taibai South Road"),
            ("雁塔路", "Yanta Road"), ("雁塔西路", "Yanta West Road"),
            ("雁塔南路", "Yanta South Road"), ("丈八东路", "Zhangba East Road"),
            ("唐延路", "Tangyan Road"), ("锦业路", "Jinye Road"), ("吉祥路", "Jixiang Road"),
            ("朱雀大街", "Zhuque Avenue"), ("翠华路", "Cuihua Road"), ("西影路", "Xiying Road"),
            ("雁翔路", "Yanxiang Road"), ("芙蓉西路", "Furong West Road"),
            ("昆明路", "Kunming Road"),
        ],
        "streets": [
            ("小寨路", "Xiaozhai Road", "街道"), ("大雁塔", "Dayanta", "街道"),
            ("长延堡", "Changyanbao", "街道"), ("电子城", "Dianzicheng", "街道"),
            ("等驾坡", "Dengjiapo", "街道"), ("鱼化寨", "Yuhuazhai", "街道"),
            ("丈八沟", "Zhangbagou", "街道"), ("曲江", "Qujiang", "街道"),
            ("雁塔路", "Yanta Road", "街道"), ("漳浒寨", "Zhanghuzhai", "街道"),
        ],
        "landmarks": [
            ("小寨", "Xiaozhai"), ("高新", "Gaoxin"), ("吉祥村", "Jixiangcun"),
            ("杨家村", "Yangjiacun"), ("瓦胡同", "Wahutong"), ("北池头", "Beichitou"),
            ("大雁塔南广场", "Big Wild Goose Pagoda South Square"), ("曲江池", "Qujiang Pool"),
        ],
    },
    {
        "code": "610114", "zh": "阎良区", "en": "Yanliang", "kind": "District",
        "centre": (34.6600, 109.2300), "radius_km": 6.0, "count": 40,
        "roads": [
            ("人民路", "Renmin Road"), ("凤凰路", "Fenghuang Road"), ("新华路", "Xinhua Road"),
            ("前进路", "Qianjin Road"), ("西飞大道", "Xifei Avenue"), ("公园路", "Gongyuan Road"),
        ],
        "streets": [
            ("凤凰路", "Fenghuang Road", "街道"), ("新华路", "Xinhua Road", "街道"),
            ("振兴", "Zhenxing", "街道"), ("新兴", "Xinxing", "街道"),
            ("北屯", "Beitun", "街道"), ("武屯", "Wutun", "街道"), ("关山", "Guanshan", "街道"),
        ],
        "landmarks": [("航空城", "Aviation City"), ("阎良站", "Yanliang Station")],
    },
    {
        "code": "610115", "zh": "临潼区", "en": "Lintong", "kind": "District",
        "centre": (34.3700, 109.2100), "radius_km": 7.0, "count": 55,
        "roads": [
            ("华清路", "Huaqing Road"), ("人民路", "Renmin Road"), ("文化路", "Wenhua Road"),
            ("秦陵北路", "Qinling North Road"), ("陕鼓大道", "Shangu Avenue"),
        ],
        "streets": [
            ("骊山", "Lishan", "街道"), ("秦陵", "Qinling", "街道"), ("代王", "Daiwang", "街道"),
            ("斜口", "Xiekou", "街道"), ("新丰", "Xinfeng", "街道"),
            ("相桥", "Xiangqiao", "街道"), ("雨金", "Yujin", "街道"),
            ("行者", "Xingzhe", "街道"), ("北田", "Beitian", "街道"), ("西泉", "Xiquan", "街道"),
        ],
        "landmarks": [("华清池", "Huaqing Pool"), ("兵马俑", "Terracotta Army")],
    },
    {
        "code": "610116", "zh": "长安区", "en": "Chang'an", "kind": "District",
        "centre": (34.1600, 108.9100), "radius_km": 7.0, "count": 130,
        "roads": [
            ("西长安街", "West Chang'an Street"), ("青年街", "Qingnian Street"),
            ("樊川路", "Fanchuan Road"), ("子午大道", "Ziwu Avenue"),
            ("航天大道", "Hangtian Avenue"), ("西沣路", "Xifeng Road"), ("西太路", "Xitai Road"),
            ("环山路", "Huanshan Road"), ("韦曲南街", "Weiqu South Street"),
        ],
        "streets": [
            ("韦曲", "Weiqu", "街道"), ("郭杜", "Guodu", "街道"), ("滦镇", "Luanzhen", "街道"),
            ("王曲", "Wangqu", "街道"), ("杜曲", "Duqu", "街道"), ("引镇", "Yinzhen", "街道"),
            ("太乙宫", "Taiyigong", "街道"), ("子午", "Ziwu", "街道"), ("细柳", "Xiliu", "街道"),
            ("兴隆", "Xinglong", "街道"), ("大兆", "Dazhao", "街道"),
        ],
        "landmarks": [
            ("大学城", "University Town"), ("常宁宫", "Changninggong"), ("航天城", "Aerospace City"),
        ],
    },
    {
        "code": "610117", "zh": "高陵区", "en": "Gaoling", "kind": "District",
        "centre": (34.5300, 109.0900), "radius_km": 6.0, "count": 45,
        "roads": [
            ("鹿苑大道", "Luyuan Avenue"), ("昭慧路", "Zhaohui Road"), ("泾渭路", "Jingwei Road"),
            ("崇皇路", "Chonghuang Road"), ("东风路", "Dongfeng Road"),
        ],
        "streets": [
            ("泾渭", "Jingwei", "街道"), ("鹿苑", "Luyuan", "街道"), ("崇皇", "Chonghuang", "街道"),
            ("姬家", "Jijia", "街道"), ("通远", "Tongyuan", "街道"), ("张卜", "Zhangbu", "街道"),
            ("耿镇", "Gengzhen", "街道"),
        ],
        "landmarks": [("泾渭新城", "Jingwei New Town"), ("泾河工业园", "Jinghe Industrial Park")],
    },
    {
        "code": "610118", "zh": "鄠邑区", "en": "Huyi", "kind": "District",
        "centre": (34.1100, 108.6000), "radius_km": 8.0, "count": 45,
        "roads": [
            ("画展街", "Huazhan Street"), ("人民路", "Renmin Road"), ("环山路", "Huanshan Road"),
            ("太平路", "Taiping Road"), ("草堂路", "Caotang Road"),
        ],
        "streets": [
            ("甘亭", "Ganting", "街道"), ("余下", "Yuxia", "街道"), ("草堂", "Caotang", "街道"),
            ("秦渡", "Qindu", "街道"), ("五竹", "Wuzhu", "街道"), ("庞光", "Pangguang", "街道"),
            ("祖庵", "Zu'an", "镇"), ("石井", "Shijing", "街道"), ("蒋村", "Jiangcun", "街道"),
        ],
        "landmarks": [("草堂寺", "Caotang Temple")],
    },
    {
        "code": "610122", "zh": "蓝田县", "en": "Lantian", "kind": "County",
        "centre": (34.1500, 109.3200), "radius_km": 9.0, "count": 40,
        "roads": [
            ("人民路", "Renmin Road"), ("向阳路", "Xiangyang Road"), ("环山路", "Huanshan Road"),
            ("华胥路", "Huaxu Road"), ("汤峪路", "Tangyu Road"),
        ],
        "streets": [
            ("蓝关", "Languan", "街道"), ("华胥", "Huaxu", "街道"), ("汤峪", "Tangyu", "镇"),
            ("玉山", "Yushan", "镇"), ("焦岱", "Jiaodai", "镇"), ("洩湖", "Xiehu", "镇"),
            ("三里镇", "Sanlizhen", "街道"), ("九间房", "Jiujianfang", "镇"),
        ],
        "landmarks": [("辋川", "Wangchuan"), ("蓝田县城", "Lantian Town")],
    },
    {
        "code": "610124", "zh": "周至县", "en": "Zhouzhi", "kind": "County",
        "centre": (34.1600, 108.2200), "radius_km": 9.0, "count": 40,
        "roads": [
            ("人民路", "Renmin Road"), ("环山路", "Huanshan Road"), ("文化路", "Wenhua Road"),
            ("东大街", "East Street"), ("西大街", "West Street"), ("楼观路", "Louguan Road"),
        ],
        "streets": [
            ("二曲", "Erqu", "街道"), ("楼观", "Louguan", "镇"), ("哑柏", "Yabai", "镇"),
            ("终南", "Zhongnan", "镇"), ("集贤", "Jixian", "镇"), ("马召", "Mazhao", "镇"),
            ("尚村", "Shangcun", "镇"), ("翠峰", "Cuifeng", "镇"), ("九峰", "Jiufeng", "镇"),
            ("司竹", "Sizhu", "镇"),
        ],
        "landmarks": [("楼观台", "Louguantai"), ("周至县城", "Zhouzhi Town")],
    },
]

WGS84_COUNT = STATION_COUNT * 10 // 100  # 112
BD09_COUNT = STATION_COUNT * 5 // 100  # 56
HOURS_MISSING = 34  # ~3%
HOURS_UNKNOWN = 11  # ~1%
HOURS_UNPARSEABLE = 11  # ~1%
PHONE_MISSING_P = 0.04
VERIFIED_FROM = datetime.date(2026, 3, 1)
VERIFIED_TO = datetime.date(2026, 11, 20)

# --- GCJ-02 and BD-09 (the same published forward transforms as core/src/geo/china.rs) ---

KRASOVSKY_A = 6378245.0
KRASOVSKY_EE = 0.00669342162296594323
X_PI = math.pi * 3000.0 / 180.0


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """The forward GCJ-02 transform (all of Xi'an is inside mainland China)."""
    d_lat = _transform_lat(lon - 105.0, lat - 35.0)
    d_lon = _transform_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1.0 - KRASOVSKY_EE * math.sin(rad_lat) * math.sin(rad_lat)
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (KRASOVSKY_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lat + d_lat, lon + d_lon


def gcj02_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    """Baidu's BD-09 offset on top of GCJ-02."""
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


# --- generation ---


def road_abbrev(en: str) -> str:
    for long, short in ((" Main Street", " Main St"), (" Street", " St"), (" Road", " Rd"),
                        (" Avenue", " Ave")):
        if en.endswith(long):
            return en[: -len(long)] + short
    return en


def weighted(rng: random.Random, items: list[tuple[str, float]]) -> str:
    return rng.choices([k for k, _ in items], weights=[w for _, w in items], k=1)[0]


def station_position(rng: random.Random, d: dict) -> tuple[float, float]:
    """A WGS-84 point around the district centre: 2-D gaussian, sigma = radius / 2, cut at
    2.5 sigma."""
    lat0, lon0 = d["centre"]
    sigma = d["radius_km"] / 2.0
    while True:
        dx, dy = rng.gauss(0.0, sigma), rng.gauss(0.0, sigma)
        if math.hypot(dx, dy) <= 2.5 * sigma:
            break
    lat = lat0 + dy / 110.95
    lon = lon0 + dx / (111.32 * math.cos(math.radians(lat0)))
    return lat, lon


def operator_of_street(street: tuple[str, str, str]) -> str:
    zh, _, kind = street
    return f"{zh}街道办事处" if kind == "街道" else f"{zh}镇人民政府"


def station_identity(rng: random.Random, d: dict, host: str) -> tuple[str, str, str, tuple | None]:
    """(name zh, name en, operator, road named or None) for a station of `host` in `d`."""
    dz, dn = d["zh"], d["en"]
    streets = d["streets"]
    places = [(zh, en) for zh, en, _ in streets] + d["landmarks"] + d["roads"]
    if host == "road":
        road = rng.choice(d["roads"])
        road_zh, road_en = road
        op = rng.random()
        if op < 0.5:
            operator = operator_of_street(rng.choice(streets))
        elif op < 0.85:
            operator = f"{dz}总工会"
        else:
            operator = f"{dz}人力资源和社会保障局"
        return f"{dz}{road_zh}红色驿站", f"{road_en} Red Station, {dn}", operator, road
    if host == "community":
        street = rng.choice(streets)
        place = rng.choice([street[:2]] + d["landmarks"] + d["roads"])
        zh, en = place
        return (f"{zh}社区党群服务中心红色驿站",
                f"{en} Community Service Centre Red Station, {dn}",
                operator_of_street(street), place if place in d["roads"] else None)
    place = rng.choice(places)
    zh, en = place
    road = place if place in d["roads"] else None
    if host == "union":
        return (f"{zh}工会服务站红色驿站", f"{en} Trade Union Service Point Red Station, {dn}",
                f"{dz}总工会", road)
    if host == "convenience":
        return (f"秦味便利{zh}店红色驿站", f"Qinwei Convenience {en} Store Red Station, {dn}",
                "西安秦味便利商贸有限公司", road)
    if host == "bank":
        return (f"古都银行{zh}支行红色驿站", f"Gudu Bank {en} Branch Red Station, {dn}",
                "古都银行西安分行", road)
    if host == "gas":
        return (f"驿路能源{zh}加油站红色驿站", f"Yilu Energy {en} Fuel Station Red Station, {dn}",
                "驿路能源（西安）有限公司", road)
    if host == "hub":
        return (f"{zh}骑手服务中心红色驿站", f"{en} Rider Service Hub Red Station, {dn}",
                "速达即时配送（西安）有限公司", road)
    raise ValueError(host)


def station_services(rng: random.Random, host: str) -> list[str]:
    p = dict(BASE_SERVICE_P)
    p.update(HOSTS[host]["services"])
    chosen = [s for s in SERVICES if rng.random() < p[s]]
    return chosen or ["drinking_water"]


def station_hours(rng: random.Random, host: str) -> str:
    overrides = HOSTS[host]["hours"]
    return weighted(rng, [(h, overrides.get(h, w)) for h, w in HOURS])


def generate() -> tuple[dict, dict]:
    rng = random.Random(SEED)
    assert sum(d["count"] for d in DISTRICTS) == STATION_COUNT

    # Which stations publish in which datum, and which have missing or odd hours: exact counts.
    indices = list(range(STATION_COUNT))
    special = rng.sample(indices, WGS84_COUNT + BD09_COUNT)
    datum_of = {i: "wgs84" for i in special[:WGS84_COUNT]}
    datum_of.update({i: "bd09" for i in special[WGS84_COUNT:]})
    odd = rng.sample(indices, HOURS_MISSING + HOURS_UNKNOWN + HOURS_UNPARSEABLE)
    hours_kind = {i: "missing" for i in odd[:HOURS_MISSING]}
    hours_kind.update({i: "unknown" for i in odd[HOURS_MISSING:HOURS_MISSING + HOURS_UNKNOWN]})
    hours_kind.update({i: "unparseable" for i in odd[HOURS_MISSING + HOURS_UNKNOWN:]})

    host_items = [(h, spec["weight"]) for h, spec in HOSTS.items()]
    verified_days = (VERIFIED_TO - VERIFIED_FROM).days
    names: set[str] = set()
    phones: set[str] = set()
    stations = []
    stats = {"district": {}, "datum": {"gcj02": 0, "wgs84": 0, "bd09": 0}, "hours": {},
             "services": {s: 0 for s in SERVICES}}
    i = 0
    for d in DISTRICTS:
        stats["district"][d["code"]] = 0
        for _ in range(d["count"]):
            host = weighted(rng, host_items)
            for _attempt in range(12):
                name_zh, name_en, operator, named_road = station_identity(rng, d, host)
                if name_zh not in names:
                    break
                host = weighted(rng, host_items)
            if name_zh in names:
                n = 2
                while f"{name_zh}（{n}号点）" in names:
                    n += 1
                name_zh, name_en = f"{name_zh}（{n}号点）", f"{name_en} (Site {n})"
            names.add(name_zh)

            w_lat, w_lon = station_position(rng, d)
            datum = datum_of.get(i, "gcj02")
            if datum == "wgs84":
                lat, lon = w_lat, w_lon
            else:
                lat, lon = wgs84_to_gcj02(w_lat, w_lon)
                if datum == "bd09":
                    lat, lon = gcj02_to_bd09(lat, lon)

            # A station named after a road is on that road.
            road_zh, road_en = named_road or rng.choice(d["roads"])
            number = rng.randint(1, 399)
            address_zh = f"{d['zh']}{road_zh}{number}号"
            address_en = f"{number} {road_abbrev(road_en)}, {d['en']} {d['kind']}"

            services = station_services(rng, host)
            hours = station_hours(rng, host)
            kind = hours_kind.get(i)
            if kind == "unknown":
                hours = "unknown"
            elif kind == "unparseable":
                hours = rng.choice(UNPARSEABLE_HOURS)

            phone = None
            if rng.random() >= PHONE_MISSING_P:
                while True:
                    phone = f"029-8{rng.randrange(10**7):07d}"
                    if phone not in phones:
                        phones.add(phone)
                        break
            verified = VERIFIED_FROM + datetime.timedelta(days=rng.randint(0, verified_days))

            station = {
                "id": f"XA-{i + 1:04d}",
                "name": {"zh": name_zh, "en": name_en},
                "position": {"lat": round(lat, 6), "lon": round(lon, 6), "datum": datum},
                "address": {"zh": address_zh, "en": address_en},
                "district": d["code"],
                "services": services,
            }
            if kind != "missing":
                station["opening_hours"] = hours
            if phone is not None:
                station["phone"] = phone
            station["operator"] = operator
            station["last_verified"] = verified.isoformat()
            stations.append(station)

            stats["district"][d["code"]] += 1
            stats["datum"][datum] += 1
            stats["hours"][kind or "osm"] = stats["hours"].get(kind or "osm", 0) + 1
            for s in services:
                stats["services"][s] += 1
            i += 1

    payload = dict(HEADER)
    payload["stations"] = stations
    return payload, stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"where to write the payload (default: {DEFAULT_OUT})")
    args = parser.parse_args()

    payload, stats = generate()
    data = (json.dumps(payload, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)

    en = {d["code"]: d["en"] for d in DISTRICTS}
    n = len(payload["stations"])
    per_district = ", ".join(f"{c} {en[c]} {k}" for c, k in stats["district"].items())
    per_datum = ", ".join(f"{k} {v}" for k, v in stats["datum"].items())
    hours = ", ".join(f"{k} {v}" for k, v in sorted(stats["hours"].items()))
    rates = ", ".join(f"{s} {100 * k / n:.0f}%" for s, k in stats["services"].items())
    print(
        f"wrote {n} stations, {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]}… "
        f"to {args.out} | districts: {per_district} | datum: {per_datum} | hours: {hours} "
        f"| services: {rates}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
