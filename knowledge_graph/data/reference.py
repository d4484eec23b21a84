"""Authored reference content: incident types, places, resources and response protocols.

Every node names its ``source``: a public document the content follows (traffic-incident
management, hazardous-materials response, road-weather and cold-chain guidance) or, for the
gazetteer, the public road names it uses. ``python -m knowledge_graph.data.generate`` writes
these to JSON next to this file together with the generated past cases.
"""

from __future__ import annotations

from typing import Any

SRC_TIM = "FHWA Traffic Incident Management Handbook (FHWA-HOP-10-013, 2010)"
SRC_MUTCD = "MUTCD 2009, Chapter 6I (Control of Traffic Through Incident Areas)"
SRC_ERG = "Emergency Response Guidebook 2024 (ERG 2024), PHMSA / Transport Canada / SCT"
SRC_JTG = "JTG H30-2015 公路养护安全作业规程 (highway maintenance work-zone safety)"
SRC_GB5768 = "GB 5768.4-2017 道路交通标志和标线 第4部分: 作业区"
SRC_JTT617 = "JT/T 617-2018 危险货物道路运输规则"
SRC_NWS = "US National Weather Service, 'Turn Around Don't Drown' flood safety guidance"
SRC_GB51222 = "GB 51222-2017 城镇内涝防治技术规范"
SRC_NFPA502 = "NFPA 502 Standard for Road Tunnels, Bridges, and Other Limited Access Highways (2023)"
SRC_NTSB = "NTSB Safety Report SR-20-01 (2020), safety risks to emergency responders from lithium-ion battery fires in EVs"
SRC_RTSL = "《中华人民共和国道路交通安全法实施条例》第八十一条 (low-visibility speed limits on expressways)"
SRC_CMA = "《气象灾害预警信号发布与传播办法》(中国气象局令第16号) warning signals"
SRC_RWM = "FHWA Road Weather Management Program, best practices for road weather management"
SRC_SIGNAL = "FHWA Traffic Signal Timing Manual (FHWA-HOP-08-024), signal operations during power failure"
SRC_WHO = "WHO TRS 961 (2011) Annex 9, Model guidance for the storage and transport of time- and temperature-sensitive pharmaceutical products"
SRC_GB31605 = "GB 31605-2020 食品安全国家标准 食品冷链物流卫生规范"
SRC_FOODCODE = "FDA Food Code 2022, 3-501.19 time as a public health control"
SRC_GAZ = "Shanghai road and place names as signposted (public); adjacency simplified for the Diaodu demo graph"

INCIDENT_TYPES: list[dict[str, Any]] = [
    {"id": "road_closure", "name_en": "Road closure", "name_zh": "道路封闭", "source": SRC_MUTCD},
    {"id": "traffic_accident", "name_en": "Traffic accident", "name_zh": "交通事故", "source": SRC_TIM},
    {"id": "hazmat_spill", "name_en": "Hazardous-materials spill or leak", "name_zh": "危化品泄漏", "source": SRC_ERG},
    {"id": "flooding", "name_en": "Flooding", "name_zh": "道路积水/内涝", "source": SRC_GB51222},
    {"id": "vehicle_fire", "name_en": "Vehicle fire", "name_zh": "车辆起火", "source": SRC_NFPA502},
    {"id": "severe_weather", "name_en": "Severe weather", "name_zh": "恶劣天气", "source": SRC_CMA},
    {"id": "power_outage", "name_en": "Power outage", "name_zh": "停电", "source": SRC_SIGNAL},
    {"id": "cold_chain_failure", "name_en": "Cold-chain failure", "name_zh": "冷链失效", "source": SRC_WHO},
]

# kind: district | road | ramp | bridge | tunnel | underpass | site
PLACES: list[dict[str, Any]] = [
    # districts
    {"id": "pl-pudong", "kind": "district", "name_en": "Pudong", "name_zh": "浦东新区", "aliases": ["pudong new area"]},
    {"id": "pl-minhang", "kind": "district", "name_en": "Minhang", "name_zh": "闵行区", "aliases": []},
    {"id": "pl-jiading", "kind": "district", "name_en": "Jiading", "name_zh": "嘉定区", "aliases": []},
    {"id": "pl-baoshan", "kind": "district", "name_en": "Baoshan", "name_zh": "宝山区", "aliases": []},
    {"id": "pl-songjiang", "kind": "district", "name_en": "Songjiang", "name_zh": "松江区", "aliases": []},
    {"id": "pl-jinshan", "kind": "district", "name_en": "Jinshan", "name_zh": "金山区", "aliases": []},
    {"id": "pl-huangpu", "kind": "district", "name_en": "Huangpu", "name_zh": "黄浦区", "aliases": []},
    {"id": "pl-qingpu", "kind": "district", "name_en": "Qingpu", "name_zh": "青浦区", "aliases": []},
    # roads
    {"id": "pl-g15", "kind": "road", "name_en": "G15 Shenhai Expressway", "name_zh": "G15沈海高速", "aliases": ["g15", "shenhai"], "district": "pl-jiading"},
    {"id": "pl-g2", "kind": "road", "name_en": "G2 Jinghu Expressway", "name_zh": "G2京沪高速", "aliases": ["g2", "jinghu"], "district": "pl-jiading"},
    {"id": "pl-s20", "kind": "road", "name_en": "S20 Outer Ring Expressway", "name_zh": "S20外环高速", "aliases": ["s20", "outer ring"], "district": "pl-baoshan"},
    {"id": "pl-g60", "kind": "road", "name_en": "G60 Hukun Expressway", "name_zh": "G60沪昆高速", "aliases": ["g60", "hukun"], "district": "pl-songjiang"},
    {"id": "pl-yanan", "kind": "road", "name_en": "Yan'an Elevated Road", "name_zh": "延安高架路", "aliases": ["yanan elevated", "延安高架"], "district": "pl-huangpu"},
    {"id": "pl-innerring", "kind": "road", "name_en": "Inner Ring Elevated Road", "name_zh": "内环高架路", "aliases": ["inner ring", "内环"], "district": "pl-huangpu"},
    {"id": "pl-s32", "kind": "road", "name_en": "S32 Shenjiahu Expressway", "name_zh": "S32申嘉湖高速", "aliases": ["s32"], "district": "pl-pudong"},
    {"id": "pl-s4", "kind": "road", "name_en": "S4 Hujin Expressway", "name_zh": "S4沪金高速", "aliases": ["s4", "hujin"], "district": "pl-jinshan"},
    # ramps
    {"id": "pl-g15-jiading-ramp", "kind": "ramp", "name_en": "G15 Jiading interchange ramp", "name_zh": "G15嘉定立交匝道", "aliases": ["jiading ramp", "嘉定匝道"], "district": "pl-jiading"},
    {"id": "pl-s20-xinzhuang-ramp", "kind": "ramp", "name_en": "S20 Xinzhuang interchange ramp", "name_zh": "S20莘庄立交匝道", "aliases": ["xinzhuang ramp", "莘庄立交", "莘庄匝道"], "district": "pl-minhang"},
    {"id": "pl-g60-songjiang-ramp", "kind": "ramp", "name_en": "G60 Songjiang exit ramp", "name_zh": "G60松江出口匝道", "aliases": ["songjiang exit", "松江出口"], "district": "pl-songjiang"},
    {"id": "pl-s4-jinshan-ramp", "kind": "ramp", "name_en": "S4 Jinshan Industrial Zone ramp", "name_zh": "S4金山工业区匝道", "aliases": ["jinshan ramp", "金山匝道"], "district": "pl-jinshan"},
    # bridges
    {"id": "pl-yangpu-bridge", "kind": "bridge", "name_en": "Yangpu Bridge", "name_zh": "杨浦大桥", "aliases": ["yangpu"], "district": "pl-pudong"},
    {"id": "pl-nanpu-bridge", "kind": "bridge", "name_en": "Nanpu Bridge", "name_zh": "南浦大桥", "aliases": ["nanpu"], "district": "pl-huangpu"},
    {"id": "pl-lupu-bridge", "kind": "bridge", "name_en": "Lupu Bridge", "name_zh": "卢浦大桥", "aliases": ["lupu"], "district": "pl-huangpu"},
    {"id": "pl-minpu-bridge", "kind": "bridge", "name_en": "Minpu Bridge", "name_zh": "闵浦大桥", "aliases": ["minpu"], "district": "pl-minhang"},
    # tunnels
    {"id": "pl-yanandong-tunnel", "kind": "tunnel", "name_en": "Yan'an East Road Tunnel", "name_zh": "延安东路隧道", "aliases": ["yan'an east tunnel", "yanan east tunnel", "延安东路隧道"], "district": "pl-huangpu"},
    {"id": "pl-dapu-tunnel", "kind": "tunnel", "name_en": "Dapu Road Tunnel", "name_zh": "打浦路隧道", "aliases": ["dapu tunnel", "dapu road tunnel"], "district": "pl-huangpu"},
    {"id": "pl-shangzhong-tunnel", "kind": "tunnel", "name_en": "Shangzhong Road Tunnel", "name_zh": "上中路隧道", "aliases": ["shangzhong tunnel"], "district": "pl-minhang"},
    {"id": "pl-waihuan-tunnel", "kind": "tunnel", "name_en": "Outer Ring Tunnel", "name_zh": "外环隧道", "aliases": ["outer ring tunnel", "waihuan tunnel"], "district": "pl-baoshan"},
    # underpasses
    {"id": "pl-humin-underpass", "kind": "underpass", "name_en": "Humin Road underpass", "name_zh": "沪闵路下立交", "aliases": ["humin underpass", "沪闵路下立交"], "district": "pl-minhang"},
    {"id": "pl-gonghexin-underpass", "kind": "underpass", "name_en": "Gonghexin Road underpass", "name_zh": "共和新路下立交", "aliases": ["gonghexin underpass", "gonghexin"], "district": "pl-baoshan"},
    {"id": "pl-zhenbei-underpass", "kind": "underpass", "name_en": "Zhenbei Road rail underpass", "name_zh": "真北路铁路下立交", "aliases": ["zhenbei underpass", "zhenbei"], "district": "pl-jiading"},
    # sites
    {"id": "pl-waigaoqiao", "kind": "site", "name_en": "Waigaoqiao port area", "name_zh": "外高桥港区", "aliases": ["waigaoqiao", "外高桥"], "district": "pl-pudong"},
    {"id": "pl-yangshan", "kind": "site", "name_en": "Yangshan deep-water port", "name_zh": "洋山深水港", "aliases": ["yangshan", "洋山港"], "district": "pl-pudong"},
    {"id": "pl-pvg", "kind": "site", "name_en": "Pudong International Airport cargo area", "name_zh": "浦东国际机场货运区", "aliases": ["pvg", "pudong airport", "浦东机场"], "district": "pl-pudong"},
    {"id": "pl-chem-park", "kind": "site", "name_en": "Shanghai Chemical Industry Park", "name_zh": "上海化学工业区", "aliases": ["chemical park", "chemical industry park", "化工区"], "district": "pl-jinshan"},
    {"id": "pl-xijiao-market", "kind": "site", "name_en": "Xijiao agricultural products market", "name_zh": "西郊国际农产品交易中心", "aliases": ["xijiao", "西郊"], "district": "pl-qingpu"},
    {"id": "pl-jiangqiao-market", "kind": "site", "name_en": "Jiangqiao wholesale market", "name_zh": "江桥批发市场", "aliases": ["jiangqiao", "江桥"], "district": "pl-jiading"},
    {"id": "pl-jiading-logistics", "kind": "site", "name_en": "Jiading logistics park", "name_zh": "嘉定物流园", "aliases": ["jiading logistics", "嘉定物流园区"], "district": "pl-jiading"},
    {"id": "pl-minhang-cold-store", "kind": "site", "name_en": "Minhang cold-storage hub", "name_zh": "闵行冷库中心", "aliases": ["minhang cold store", "闵行冷库"], "district": "pl-minhang"},
    {"id": "pl-songjiang-pharma", "kind": "site", "name_en": "Songjiang pharmaceutical distribution centre", "name_zh": "松江医药配送中心", "aliases": ["songjiang pharma", "医药配送中心"], "district": "pl-songjiang"},
]

# Undirected adjacency used for detours and "nearby" graph expansion.
ADJACENCY: list[tuple[str, str]] = [
    ("pl-g15", "pl-g15-jiading-ramp"), ("pl-g15", "pl-s20"), ("pl-g15", "pl-g2"), ("pl-g15", "pl-s32"),
    ("pl-g2", "pl-s20"), ("pl-g2", "pl-zhenbei-underpass"), ("pl-g2", "pl-jiangqiao-market"),
    ("pl-s20", "pl-s20-xinzhuang-ramp"), ("pl-s20", "pl-waihuan-tunnel"), ("pl-s20", "pl-g60"), ("pl-s20", "pl-gonghexin-underpass"),
    ("pl-s20", "pl-minpu-bridge"), ("pl-g60", "pl-g60-songjiang-ramp"), ("pl-g60", "pl-songjiang-pharma"),
    ("pl-s4", "pl-s4-jinshan-ramp"), ("pl-s4", "pl-s20-xinzhuang-ramp"), ("pl-s4-jinshan-ramp", "pl-chem-park"),
    ("pl-s32", "pl-pvg"), ("pl-s32", "pl-minpu-bridge"), ("pl-s32", "pl-yangshan"),
    ("pl-yanan", "pl-innerring"), ("pl-yanan", "pl-yanandong-tunnel"), ("pl-yanan", "pl-jiangqiao-market"),
    ("pl-innerring", "pl-nanpu-bridge"), ("pl-innerring", "pl-yangpu-bridge"), ("pl-innerring", "pl-lupu-bridge"),
    ("pl-innerring", "pl-dapu-tunnel"), ("pl-innerring", "pl-humin-underpass"),
    ("pl-lupu-bridge", "pl-dapu-tunnel"), ("pl-nanpu-bridge", "pl-dapu-tunnel"), ("pl-shangzhong-tunnel", "pl-s20"),
    ("pl-shangzhong-tunnel", "pl-humin-underpass"), ("pl-humin-underpass", "pl-minhang-cold-store"),
    ("pl-yangpu-bridge", "pl-waigaoqiao"), ("pl-waihuan-tunnel", "pl-waigaoqiao"), ("pl-gonghexin-underpass", "pl-g15"),
    ("pl-xijiao-market", "pl-g15"), ("pl-xijiao-market", "pl-yanan"), ("pl-jiading-logistics", "pl-g15-jiading-ramp"),
    ("pl-jiading-logistics", "pl-zhenbei-underpass"), ("pl-minhang-cold-store", "pl-s20-xinzhuang-ramp"),
    ("pl-songjiang-pharma", "pl-g60-songjiang-ramp"),
]

RESOURCES: list[dict[str, Any]] = [
    {"id": "res-police", "name_en": "Traffic police patrol", "name_zh": "交警巡逻车", "source": SRC_TIM},
    {"id": "res-ems", "name_en": "Ambulance (EMS)", "name_zh": "120急救车", "source": SRC_TIM},
    {"id": "res-fire", "name_en": "Fire engine", "name_zh": "消防车", "source": SRC_TIM},
    {"id": "res-foam", "name_en": "Foam tender", "name_zh": "泡沫消防车", "source": SRC_ERG},
    {"id": "res-hazmat", "name_en": "Hazmat team", "name_zh": "危化品处置队", "source": SRC_ERG},
    {"id": "res-envmon", "name_en": "Environmental monitoring unit", "name_zh": "环境监测车", "source": SRC_ERG},
    {"id": "res-tow-light", "name_en": "Light-duty tow truck", "name_zh": "小型清障车", "source": SRC_TIM},
    {"id": "res-tow-heavy", "name_en": "Heavy-duty rotator tow", "name_zh": "大型清障车(旋转吊)", "source": SRC_TIM},
    {"id": "res-maint", "name_en": "Highway maintenance crew with arrow board and cones", "name_zh": "路政养护队(箭头板、锥桶)", "source": SRC_JTG},
    {"id": "res-vms", "name_en": "Variable message signs / traffic information centre", "name_zh": "可变情报板/交通信息中心", "source": SRC_TIM},
    {"id": "res-pump", "name_en": "Mobile drainage pump truck", "name_zh": "移动排水泵车", "source": SRC_GB51222},
    {"id": "res-utility", "name_en": "Electric utility repair crew", "name_zh": "电力抢修队", "source": SRC_SIGNAL},
    {"id": "res-generator", "name_en": "Mobile generator truck", "name_zh": "移动发电车", "source": SRC_SIGNAL},
    {"id": "res-reefer", "name_en": "Spare reefer truck", "name_zh": "备用冷藏车", "source": SRC_GB31605},
    {"id": "res-coldstore", "name_en": "Backup cold-storage space", "name_zh": "备用冷库库位", "source": SRC_GB31605},
    {"id": "res-qa", "name_en": "Quality assurance / pharmacist on call", "name_zh": "质量负责人/值班药师", "source": SRC_WHO},
    {"id": "res-gritter", "name_en": "Gritter / de-icing truck", "name_zh": "撒布车(融雪剂)", "source": SRC_RWM},
    {"id": "res-tree", "name_en": "Tree and debris clearing crew", "name_zh": "绿化抢险队", "source": SRC_RWM},
    {"id": "res-bridge-eng", "name_en": "Structural (bridge) engineer", "name_zh": "桥梁结构工程师", "source": SRC_JTG},
    {"id": "res-driver", "name_en": "Driver on scene (with the vehicle's own equipment)", "name_zh": "现场司机(车载设备)", "source": SRC_GB31605},
    {"id": "res-thermal", "name_en": "Thermal imaging camera", "name_zh": "热成像仪", "source": SRC_NTSB},
]


def _step(role: str, en: str, zh: str, minutes: int, resources: list[str], source: str) -> dict[str, Any]:
    return {"role": role, "text_en": en, "text_zh": zh, "time_target_min": minutes, "resources": resources, "source": source}


PROTOCOLS: list[dict[str, Any]] = [
    {"id": "proto-traffic-accident", "incident_type": "traffic_accident", "title_en": "Traffic accident: quick clearance",
     "title_zh": "交通事故快速处置", "source": SRC_TIM, "steps": [
         _step("dispatcher", "Confirm location, lanes blocked, injuries and whether fuel or cargo is leaking; dispatch police and EMS.",
               "确认位置、占用车道、有无伤员及燃油或货物泄漏，调派交警和120。", 2, ["res-police", "res-ems"], SRC_TIM),
         _step("police", "Set up advance warning and a protected work area with the patrol car upstream (block-to-the-right/left).",
               "巡逻车在上游设置预警并形成防护作业区。", 10, ["res-police", "res-maint"], SRC_MUTCD),
         _step("ems", "Triage and treat the injured; request more ambulances if more than two are hurt.",
               "检伤分类救治伤员；伤员超过两人时增派救护车。", 12, ["res-ems"], SRC_TIM),
         _step("traffic_centre", "Post queue warnings on variable message signs 2-5 km upstream and suggest detours.",
               "在上游2-5公里情报板发布排队提示和绕行建议。", 15, ["res-vms"], SRC_TIM),
         _step("tow", "Move driveable vehicles to the shoulder; send the tow class matching the heaviest vehicle.",
               "可移动车辆先移至路肩；按最重车辆匹配清障车型。", 30, ["res-tow-light", "res-tow-heavy"], SRC_TIM),
         _step("police", "Reopen lanes as soon as they are clear; aim to clear the scene within 90 minutes.",
               "车道清理后立即恢复通行，目标90分钟内现场清除。", 90, ["res-police"], SRC_TIM),
     ]},
    {"id": "proto-road-closure", "incident_type": "road_closure", "title_en": "Road closure: staging and detour",
     "title_zh": "道路封闭：分段管控与绕行", "source": SRC_MUTCD, "steps": [
         _step("dispatcher", "Confirm the closed section, expected duration and the reason (works, damage, event, debris).",
               "确认封闭路段、预计时长及原因（施工、损毁、活动、散落物）。", 5, ["res-police"], SRC_MUTCD),
         _step("maintenance", "Stage the closure: advance warning area, transition taper, buffer space and work area per the work-zone layout.",
               "按作业区布置设置警告区、上游过渡区、缓冲区和工作区。", 20, ["res-maint"], SRC_JTG),
         _step("traffic_centre", "Publish the detour on message signs and navigation apps; reroute trucks at the previous interchange.",
               "在情报板和导航平台发布绕行方案；货车在上一互通提前分流。", 20, ["res-vms"], SRC_GB5768),
         _step("police", "Post officers at the detour junctions for the first peak hour.", "首个高峰时段在绕行路口安排警力疏导。", 30, ["res-police"], SRC_TIM),
         _step("engineer", "For structural damage, have an engineer inspect before reopening any lane.", "若涉及结构损伤，须经工程师检查后方可开放车道。", 60, ["res-bridge-eng"], SRC_JTG),
         _step("maintenance", "Remove the closure in reverse order and confirm the lanes are open.", "按相反顺序撤除封闭设施并确认恢复通行。", 240, ["res-maint", "res-vms"], SRC_JTG),
     ]},
    {"id": "proto-hazmat", "incident_type": "hazmat_spill", "title_en": "Hazardous-materials spill or leak",
     "title_zh": "危化品泄漏处置", "source": SRC_ERG, "steps": [
         _step("dispatcher", "Get the UN number or placard, the product and the wind direction; never send responders in before the product is known.",
               "获取UN编号或标志牌、介质名称和风向；介质未明前不得进入现场。", 3, ["res-police"], SRC_ERG),
         _step("police", "Approach from upwind and uphill; isolate at least 50 m in all directions for liquids (100 m for toxic or flammable gases; ERG Table 1 for TIH).",
               "从上风向、高处接近；液体至少隔离50米，有毒或易燃气体至少100米（吸入毒性物质查ERG表1）。", 10, ["res-police"], SRC_ERG),
         _step("fire", "If a tank truck is involved in fire, isolate 800 m in all directions (1600 m for LPG, ERG Guide 115).",
               "罐车着火时四周隔离800米（液化石油气为1600米，ERG指南115）。", 10, ["res-fire", "res-foam"], SRC_ERG),
         _step("hazmat", "Hazmat team stops the leak, dikes the spill away from drains and water, and neutralises or absorbs it.",
               "危化品处置队堵漏、围堵防止流入雨水口和水体，并中和或吸附。", 45, ["res-hazmat"], SRC_JTT617),
         _step("environment", "Monitor air and water downwind; decide shelter-in-place or evacuation with the readings.",
               "在下风向监测空气和水体，依据读数决定就地避险或疏散。", 30, ["res-envmon"], SRC_ERG),
         _step("traffic_centre", "Close the road section and publish a detour that keeps traffic out of the downwind zone.",
               "封闭路段并发布绕开下风向区域的绕行方案。", 15, ["res-vms", "res-maint"], SRC_TIM),
         _step("tow", "Transfer the remaining load and recover the vehicle only after the hazmat team declares it safe.",
               "危化品处置队确认安全后再倒罐和拖移车辆。", 180, ["res-tow-heavy", "res-hazmat"], SRC_JTT617),
     ]},
    {"id": "proto-flooding", "incident_type": "flooding", "title_en": "Road flooding and underpass closure",
     "title_zh": "道路积水与下立交封闭", "source": SRC_GB51222, "steps": [
         _step("dispatcher", "Check the water-depth gauge or camera; 15 cm of moving water can knock a person down and 30 cm can float a car.",
               "查看水位标尺或监控；15厘米流水可冲倒行人，30厘米可使车辆漂浮。", 3, ["res-vms"], SRC_NWS),
         _step("police", "Close the underpass or low road at both ends before vehicles enter; never let vehicles drive through.",
               "在车辆进入前封闭下立交或低洼路段两端，严禁车辆涉水通行。", 10, ["res-police", "res-maint"], SRC_GB51222),
         _step("drainage", "Send mobile pump trucks and clear drain inlets; check the pumping station has power.",
               "调派移动泵车并清理雨水口；确认泵站供电正常。", 30, ["res-pump", "res-utility"], SRC_GB51222),
         _step("fire", "Rescue occupants of stalled vehicles; do not wade into fast-moving water.", "救援被困车辆人员；不得徒步进入急流。", 15, ["res-fire", "res-ems"], SRC_NWS),
         _step("traffic_centre", "Publish detours avoiding low points; warn delivery drivers to hold rather than enter water.",
               "发布避开低洼点的绕行；提醒配送司机原地等待，不得涉水。", 15, ["res-vms"], SRC_TIM),
         _step("maintenance", "Reopen after the water is gone and the road surface and manholes are checked.", "积水退去并检查路面和井盖后恢复通行。", 120, ["res-maint"], SRC_GB51222),
     ]},
    {"id": "proto-vehicle-fire", "incident_type": "vehicle_fire", "title_en": "Vehicle fire on the road or in a tunnel",
     "title_zh": "道路或隧道车辆起火", "source": SRC_NFPA502, "steps": [
         _step("dispatcher", "Ask what is burning (car, truck, bus, electric vehicle, cargo) and whether people are still inside.",
               "询问起火对象（小车、货车、客车、电动车、货物）及是否有人员被困。", 2, ["res-fire"], SRC_TIM),
         _step("fire", "Dispatch fire and EMS; keep bystanders at least 30 m away because tyres and struts can explode.",
               "调派消防和急救；群众距离至少30米，防止轮胎和支撑杆爆炸。", 8, ["res-fire", "res-ems"], SRC_TIM),
         _step("tunnel_operator", "In a tunnel: start smoke-control ventilation in the direction of traffic, close the portals and guide people to cross-passages.",
               "隧道内：按行车方向启动排烟通风，封闭洞口，引导人员进入横通道。", 3, ["res-vms"], SRC_NFPA502),
         _step("fire", "For electric vehicles expect large water volumes and re-ignition; monitor the battery with a thermal camera before towing.",
               "电动车起火需大量用水并可能复燃；拖移前用热成像仪监测电池温度。", 60, ["res-fire", "res-thermal"], SRC_NTSB),
         _step("police", "Close affected lanes plus a buffer lane; protect the scene from upstream traffic.", "封闭受影响车道及一条缓冲车道，防护上游来车。", 10, ["res-police", "res-maint"], SRC_MUTCD),
         _step("tow", "Tow the burnt vehicle (EV to an isolated quarantine spot at least 15 m from others) and inspect the road or tunnel lining.",
               "拖离烧毁车辆（电动车停放到距其他车辆至少15米的隔离区），检查路面或隧道衬砌。", 90, ["res-tow-heavy", "res-bridge-eng"], SRC_NTSB),
     ]},
    {"id": "proto-severe-weather", "incident_type": "severe_weather", "title_en": "Severe weather: fog, wind, ice and heat",
     "title_zh": "恶劣天气：雾、大风、冰雪和高温", "source": SRC_CMA, "steps": [
         _step("dispatcher", "Check the meteorological warning level (blue, yellow, orange, red) and forecast duration.", "核实气象预警级别（蓝、黄、橙、红）和持续时间。", 5, ["res-vms"], SRC_CMA),
         _step("traffic_centre", "Fog: visibility under 200 m limit 60 km/h, under 100 m limit 40 km/h, under 50 m limit 20 km/h and leave at the next exit.",
               "雾天：能见度小于200米限速60公里/小时，小于100米限速40，小于50米限速20并从最近出口驶离。", 10, ["res-vms", "res-police"], SRC_RTSL),
         _step("police", "High wind: stop high-sided and empty trucks on bridges when gusts exceed the bridge's limit; escort convoys if needed.",
               "大风：阵风超过桥梁限值时禁止高厢和空载货车上桥，必要时编队护送。", 15, ["res-police"], SRC_RWM),
         _step("maintenance", "Ice or snow: pre-treat bridges and ramps with de-icer and plough in convoy.", "冰雪：预先在桥面和匝道撒布融雪剂，编队除雪。", 30, ["res-gritter", "res-maint"], SRC_RWM),
         _step("maintenance", "Clear fallen trees and debris; check signs and gantries after the wind drops.", "清理倒伏树木和杂物；风停后检查标志和门架。", 60, ["res-tree", "res-maint"], SRC_RWM),
         _step("dispatcher", "Tell drivers to hold or reroute deliveries; adjust time windows rather than send vehicles into the warning area.",
               "通知司机暂停或改道配送；调整时间窗，不要派车进入预警区域。", 20, ["res-vms"], SRC_RWM),
     ]},
    {"id": "proto-power-outage", "incident_type": "power_outage", "title_en": "Power outage: dark signals, tunnels and depots",
     "title_zh": "停电：信号灯、隧道和场站", "source": SRC_SIGNAL, "steps": [
         _step("dispatcher", "Find the outage area and the estimated restoration time from the utility.", "向供电公司确认停电范围和预计恢复时间。", 10, ["res-utility"], SRC_SIGNAL),
         _step("police", "Dark signals: send officers to direct traffic at the busiest intersections; others operate as all-way stop.",
               "信号灯熄灭：在最繁忙路口安排交警指挥，其余路口按停车让行通行。", 15, ["res-police"], SRC_SIGNAL),
         _step("tunnel_operator", "Tunnel: check emergency lighting and ventilation on backup power; close the tunnel if backup fails.",
               "隧道：检查应急照明和通风是否由备用电源供电；备用电源失效则封闭隧道。", 5, ["res-vms", "res-generator"], SRC_NFPA502),
         _step("utility", "Bring mobile generators to signals, pumping stations or tunnel plant that are critical.", "为关键信号灯、泵站或隧道设备接入移动发电车。", 45, ["res-generator", "res-utility"], SRC_SIGNAL),
         _step("dispatcher", "Depot or cold store: keep reefer doors shut, move temperature-sensitive loads first.", "场站或冷库：保持冷藏门关闭，优先转运温控货物。", 30, ["res-reefer", "res-coldstore"], SRC_GB31605),
         _step("police", "Stand down manual control once signals are back and timing plans are restored.", "信号恢复并核对配时方案后撤除人工指挥。", 120, ["res-police"], SRC_SIGNAL),
     ]},
    {"id": "proto-cold-chain", "incident_type": "cold_chain_failure", "title_en": "Cold-chain failure: hold, transfer or discard",
     "title_zh": "冷链失效：保持、转运或报废", "source": SRC_WHO, "steps": [
         _step("dispatcher", "Read the temperature logger: product, set range (2-8 °C medicines, -18 °C or colder frozen food, 0-4 °C chilled) and time out of range.",
               "读取温度记录仪：货物、设定温区（药品2-8℃、冻品-18℃以下、冷鲜0-4℃）及超温时长。", 5, ["res-qa"], SRC_WHO),
         _step("driver", "Keep doors closed and the unit on; do not open the load to check unless instructed.", "保持厢门关闭、机组运行；无指令不得开门查看。", 2, ["res-driver"], SRC_GB31605),
         _step("dispatcher", "Send the nearest spare reefer truck (pre-cooled) or book backup cold-storage space for transfer.", "调派最近的预冷备用冷藏车或预订备用冷库库位转运。", 30, ["res-reefer", "res-coldstore"], SRC_GB31605),
         _step("qa", "Medicines: quarantine the excursion and let the responsible person decide with the stability data; never release on the driver's word.",
               "药品：超温批次隔离，由质量负责人依据稳定性数据决定；不得凭司机判断放行。", 60, ["res-qa"], SRC_WHO),
         _step("qa", "Chilled food: above 5 °C for more than 4 hours must be discarded; record times and temperatures.", "冷鲜食品：高于5℃超过4小时须报废；记录时间和温度。", 60, ["res-qa"], SRC_FOODCODE),
         _step("dispatcher", "Re-plan the affected deliveries and notify customers of the new time windows.", "重新规划受影响的配送并通知客户新的时间窗。", 45, ["res-vms"], SRC_GB31605),
     ]},
    {"id": "proto-tunnel-fire", "incident_type": "vehicle_fire", "title_en": "Tunnel fire: ventilation and evacuation",
     "title_zh": "隧道火灾：通风与疏散", "source": SRC_NFPA502, "steps": [
         _step("tunnel_operator", "Confirm the fire on CCTV and close both portals with signals and barriers.", "通过监控确认火情，用信号灯和栏杆封闭两端洞口。", 2, ["res-vms"], SRC_NFPA502),
         _step("tunnel_operator", "Run longitudinal ventilation in the direction of traffic so smoke moves away from queued vehicles.", "按行车方向开启纵向通风，使烟气远离排队车辆。", 3, ["res-vms"], SRC_NFPA502),
         _step("police", "Guide people upstream of the fire on foot to the nearest cross-passage or portal.", "引导火点上游人员步行至最近横通道或洞口。", 5, ["res-police"], SRC_NFPA502),
         _step("fire", "Attack from the upstream side with fresh air behind; keep a second crew at the other portal.", "消防从上风（上游）侧进攻；另一端洞口部署第二组力量。", 10, ["res-fire", "res-ems"], SRC_NFPA502),
         _step("engineer", "Inspect the lining, lighting and cables before reopening.", "复通前检查衬砌、照明和电缆。", 240, ["res-bridge-eng", "res-maint"], SRC_NFPA502),
     ]},
    {"id": "proto-ev-battery-fire", "incident_type": "vehicle_fire", "title_en": "Electric-vehicle battery fire",
     "title_zh": "电动汽车电池起火", "source": SRC_NTSB, "steps": [
         _step("fire", "Identify the vehicle as electric (badges, orange cables) and do not cut into the battery pack.", "识别电动车（标识、橙色高压线）；不得切割电池包。", 5, ["res-fire"], SRC_NTSB),
         _step("fire", "Cool the battery with sustained water; plan for far more water than a petrol car fire.", "持续用水冷却电池；用水量远超燃油车火灾。", 30, ["res-fire"], SRC_NTSB),
         _step("fire", "Check battery temperature with a thermal camera; re-ignition can happen hours later.", "用热成像仪检测电池温度；数小时后仍可能复燃。", 60, ["res-thermal"], SRC_NTSB),
         _step("tow", "Tow to an open quarantine area away from buildings and other vehicles; tell the storage yard it is an EV.", "拖至远离建筑和车辆的开阔隔离区，并告知停车场为电动车。", 90, ["res-tow-heavy"], SRC_NTSB),
     ]},
]
