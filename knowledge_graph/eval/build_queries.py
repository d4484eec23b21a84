"""Write the held-out query set ``queries.jsonl`` (run: ``python -m knowledge_graph.eval.build_queries``).

The query texts below were written apart from the cases, the way a dispatcher on the phone
would put it (partial information, other words than the case base uses). Each names the
incident type and the scenario it describes; its relevant cases are every case of that
scenario in ``data/cases.jsonl`` (5 to 7 cases each), resolved here so the file lists ids.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = HERE.parent / "data" / "cases.jsonl"

# (query, incident type, scenario)
QUERIES: list[tuple[str, str, str]] = [
    # traffic_accident
    ("Five or six cars have piled into each other in the slow lane on the G2, people standing on the road", "traffic_accident", "rear_end_pileup"),
    ("chain collision in stop-and-go traffic, three lanes blocked, a couple of people hurt", "traffic_accident", "rear_end_pileup"),
    ("several vehicles shunted into each other at the back of a queue on the outer ring", "traffic_accident", "rear_end_pileup"),
    ("S20上好几辆车追尾了，三条道都堵死了，有人受伤", "traffic_accident", "rear_end_pileup"),
    ("车流慢的时候连环撞了七八辆车，后面排了好几公里", "traffic_accident", "rear_end_pileup"),
    ("a lorry has tipped on its side on the bend and its load is all over the carriageway", "traffic_accident", "truck_overturn"),
    ("semi rolled over on the ramp, cargo of steel everywhere, need something big to lift it", "traffic_accident", "truck_overturn"),
    ("半挂车在弯道上翻了，货全撒在路上，司机轻伤", "traffic_accident", "truck_overturn"),
    ("G15上一辆大货车侧翻，要大吊车来扶正", "traffic_accident", "truck_overturn"),
    ("a van knocked down someone crossing the road, the person is badly hurt", "traffic_accident", "pedestrian_struck"),
    ("pedestrian hit by a delivery van, van stopped further down, victim not moving", "traffic_accident", "pedestrian_struck"),
    ("有个行人横穿马路被面包车撞了，伤得很重", "traffic_accident", "pedestrian_struck"),
    ("coach full of passengers crashed into a truck, lots of injured people", "traffic_accident", "bus_collision"),
    ("tour bus collision on the bridge, maybe ten passengers hurt, need several ambulances", "traffic_accident", "bus_collision"),
    ("大巴和货车撞了，车上三十多个乘客，好多人受伤", "traffic_accident", "bus_collision"),
    ("客车相撞，需要多辆救护车，伤员要分流去医院", "traffic_accident", "bus_collision"),
    ("a car slid into the barrier on the slip road, nobody hurt but the ramp is blocked", "traffic_accident", "ramp_guardrail"),
    ("single car hit the crash barrier on the exit ramp, just needs towing", "traffic_accident", "ramp_guardrail"),
    ("匝道上一辆小车撞了护栏，没人受伤，但是把匝道堵了", "traffic_accident", "ramp_guardrail"),
    ("小轿车打滑撞护栏，单车道匝道过不去了", "traffic_accident", "ramp_guardrail"),
    # road_closure
    ("they're milling and repaving the expressway tonight, lanes shut until five in the morning", "road_closure", "night_resurfacing"),
    ("overnight road works with lanes coned off on the bridge, how do I route the night deliveries", "road_closure", "night_resurfacing"),
    ("今晚高速夜间施工封道，铣刨重铺路面，到早上五点", "road_closure", "night_resurfacing"),
    ("夜里养护施工封了两条车道，夜间配送怎么走", "road_closure", "night_resurfacing"),
    ("drivers heard a bang on the bridge, a deck joint is sticking up, lanes closed", "road_closure", "bridge_joint_damage"),
    ("the expansion joint on Minpu Bridge is broken, engineer coming, trucks banned", "road_closure", "bridge_joint_damage"),
    ("大桥伸缩缝翘起来了，桥上封了车道等工程师检查", "road_closure", "bridge_joint_damage"),
    ("桥面接缝坏了，禁止重车上桥", "road_closure", "bridge_joint_damage"),
    ("city marathon on Sunday morning, lots of streets closed till about one", "road_closure", "marathon_event"),
    ("race day road closures, runners on the road, when do streets reopen", "road_closure", "marathon_event"),
    ("周日马拉松比赛，很多路要管制到中午", "road_closure", "marathon_event"),
    ("跑马拉松封路，配送时间窗要调整", "road_closure", "marathon_event"),
    ("the road surface has caved in, there's a big hole in the carriageway", "road_closure", "sinkhole"),
    ("sinkhole opened up after a pipe leak, road shut both ways", "road_closure", "sinkhole"),
    ("路面突然塌了个大坑，双向都封了", "road_closure", "sinkhole"),
    ("马路塌陷，下面水管漏水把路基掏空了", "road_closure", "sinkhole"),
    ("a truck dropped a pile of pallets across the lanes, need it swept up", "road_closure", "debris_load"),
    ("stuff fell off a lorry on the expressway, gravel all over two lanes", "road_closure", "debris_load"),
    ("货车掉了一地东西，木托盘散在车道上", "road_closure", "debris_load"),
    ("高架上有散落物，碎石撒了两条道，需要清扫", "road_closure", "debris_load"),
    # hazmat_spill
    ("petrol tanker leaking after a crash, fuel running towards the drains", "hazmat_spill", "gasoline_tanker"),
    ("fuel tanker with placard 1203 is dripping from a valve, big puddle of gasoline", "hazmat_spill", "gasoline_tanker"),
    ("a tanker is losing petrol on the G15 ramp, smells of fuel, no fire yet", "hazmat_spill", "gasoline_tanker"),
    ("汽油罐车撞车后阀门漏油，油流向雨水口", "hazmat_spill", "gasoline_tanker"),
    ("油罐车漏油了，地上一大摊汽油，还没着火", "hazmat_spill", "gasoline_tanker"),
    ("greenish-yellow gas coming out of a cylinder on a truck, people coughing", "hazmat_spill", "chlorine_leak"),
    ("chlorine leak from tonne containers on a lorry, which way should people evacuate", "hazmat_spill", "chlorine_leak"),
    ("truck with chlorine cylinders leaking near the chemical park, toxic cloud", "hazmat_spill", "chlorine_leak"),
    ("货车上的液氯钢瓶漏气，黄绿色的气体，周围人一直咳嗽", "hazmat_spill", "chlorine_leak"),
    ("氯气泄漏，下风向居民要不要疏散", "hazmat_spill", "chlorine_leak"),
    ("white cloud and a very sharp smell from a tanker delivering to a cold store, ammonia maybe", "hazmat_spill", "ammonia_leak"),
    ("anhydrous ammonia escaping from a delivery tanker, workers eyes burning", "hazmat_spill", "ammonia_leak"),
    ("给冷库送货的液氨罐车泄漏，白雾，气味很冲", "hazmat_spill", "ammonia_leak"),
    ("氨气泄漏了，工人眼睛刺痛，要隔离多远", "hazmat_spill", "ammonia_leak"),
    ("LPG tanker hissing from a cracked fitting after it scraped the barrier, frost on the pipe", "hazmat_spill", "lpg_tanker"),
    ("propane gas tanker leaking on the bridge, how far do we clear people", "hazmat_spill", "lpg_tanker"),
    ("液化石油气罐车刮了护栏，管子裂了在嘶嘶漏气", "hazmat_spill", "lpg_tanker"),
    ("液化气槽车泄漏，要不要双向封路，疏散多远", "hazmat_spill", "lpg_tanker"),
    ("acid containers fell off a flatbed and it's fuming on the road", "hazmat_spill", "acid_spill"),
    ("sulphuric acid spilled from IBC totes, smoke coming off the wet road", "hazmat_spill", "acid_spill"),
    ("平板车上的硫酸吨桶掉下来了，路面在冒白烟", "hazmat_spill", "acid_spill"),
    ("硫酸洒了一地，用什么中和", "hazmat_spill", "acid_spill"),
    # flooding
    ("the underpass is filling with water, a couple of cars have stalled in it", "flooding", "underpass_flood"),
    ("cars stuck in deep water under the rail bridge after the downpour", "flooding", "underpass_flood"),
    ("Humin Road underpass flooded, water up to the doors", "flooding", "underpass_flood"),
    ("下立交积水很深，有车熄火被困在里面", "flooding", "underpass_flood"),
    ("暴雨后下穿通道被淹了，要不要封闭", "flooding", "underpass_flood"),
    ("the pumps in the river tunnel stopped and water is collecting at the lowest point", "flooding", "tunnel_flood"),
    ("water inside the Dapu tunnel after the pump room failed in the rain", "flooding", "tunnel_flood"),
    ("隧道泵房坏了，最低点积水，要封隧道吗", "flooding", "tunnel_flood"),
    ("越江隧道里积水了，水泵没电", "flooding", "tunnel_flood"),
    ("red rainstorm warning and the streets are under water, delivery vans can't move", "flooding", "street_waterlogging"),
    ("drains blocked with leaves, whole neighbourhood waterlogged, vans stuck", "flooding", "street_waterlogging"),
    ("暴雨红色预警，街道全是水，配送车开不动了", "flooding", "street_waterlogging"),
    ("雨水口堵了，好几条路都内涝，快递车停了", "flooding", "street_waterlogging"),
    ("high tide plus storm surge, river water coming over the flood wall onto the road", "flooding", "riverside_overtop"),
    ("river overtopped near the port and trucks are waiting at the terminal gate", "flooding", "riverside_overtop"),
    ("天文大潮加风暴潮，江水漫过防汛墙淹了路", "flooding", "riverside_overtop"),
    ("a big water pipe burst under the road, lanes flooded and tarmac lifted", "flooding", "water_main_burst"),
    ("water main has blown, water gushing up through the road surface", "flooding", "water_main_burst"),
    ("路下面自来水总管爆了，车道全淹了，沥青都顶起来了", "flooding", "water_main_burst"),
    ("水管爆裂，马路上冒水，要找阀门", "flooding", "water_main_burst"),
    # vehicle_fire
    ("an electric car is on fire, smoke from underneath and popping noises from the battery", "vehicle_fire", "ev_battery_fire"),
    ("EV battery burning, the fire keeps flaring up again, how much water do we need", "vehicle_fire", "ev_battery_fire"),
    ("新能源车电池起火了，底盘冒烟还有噼啪声", "vehicle_fire", "ev_battery_fire"),
    ("电动车烧起来了，扑灭后又复燃", "vehicle_fire", "ev_battery_fire"),
    ("lorry wheels on fire, brakes overheated, driver pulled onto the hard shoulder", "vehicle_fire", "truck_brake_fire"),
    ("rear tyres of a heavy truck are burning after the long downhill", "vehicle_fire", "truck_brake_fire"),
    ("大货车刹车过热后轮着火了，停在路肩", "vehicle_fire", "truck_brake_fire"),
    ("重卡轮胎烧起来了，怕爆胎", "vehicle_fire", "truck_brake_fire"),
    ("car burning inside the tunnel, smoke along the roof, cars queued behind", "vehicle_fire", "tunnel_car_fire"),
    ("fire in the Yan'an East Road tunnel, which way do we run the fans", "vehicle_fire", "tunnel_car_fire"),
    ("隧道里有车着火了，烟沿着顶部过来，后面堵了很多车", "vehicle_fire", "tunnel_car_fire"),
    ("隧道内车辆起火，通风往哪个方向开", "vehicle_fire", "tunnel_car_fire"),
    ("smoke pouring out of the back of a city bus full of passengers", "vehicle_fire", "bus_fire"),
    ("bus engine on fire, driver opened the doors and people got off", "vehicle_fire", "bus_fire"),
    ("公交车尾部冒烟起火了，车上有乘客", "vehicle_fire", "bus_fire"),
    ("公交发动机舱着火，乘客已经下车", "vehicle_fire", "bus_fire"),
    ("flames coming from under the bonnet of a car on the elevated road", "vehicle_fire", "car_engine_fire"),
    ("petrol car engine caught fire, driver got out, one lane blocked", "vehicle_fire", "car_engine_fire"),
    ("小汽车引擎盖下面冒火，司机已经下车", "vehicle_fire", "car_engine_fire"),
    ("高架上一辆轿车发动机着火了", "vehicle_fire", "car_engine_fire"),
    # severe_weather
    ("thick fog on the expressway, you can barely see 50 metres", "severe_weather", "dense_fog"),
    ("visibility dropping fast on the bridge, patches of fog, what speed limit", "severe_weather", "dense_fog"),
    ("高速上团雾，能见度不到一百米", "severe_weather", "dense_fog"),
    ("大雾黄色预警，要不要关匝道", "severe_weather", "dense_fog"),
    ("typhoon coming through, gusts force eleven on the bridge, empty container trucks at risk", "severe_weather", "typhoon_wind"),
    ("strong typhoon winds, trees down, should we stop high-sided lorries", "severe_weather", "typhoon_wind"),
    ("台风过境，桥上阵风十级以上，空箱集卡能上桥吗", "severe_weather", "typhoon_wind"),
    ("台风橙色预警，树倒了好几处", "severe_weather", "typhoon_wind"),
    ("freezing rain, black ice on the bridge deck and ramps", "severe_weather", "road_icing"),
    ("roads iced over this morning, cars sliding on the ramp", "severe_weather", "road_icing"),
    ("冻雨，桥面和匝道结冰了，车辆打滑", "severe_weather", "road_icing"),
    ("道路结冰预警，要先撒融雪剂吗", "severe_weather", "road_icing"),
    ("heavy snow overnight, trucks can't get up the slopes", "severe_weather", "snowstorm"),
    ("blizzard warning, twenty centimetres of snow, ploughs needed", "severe_weather", "snowstorm"),
    ("暴雪积雪二十厘米，货车在坡上打滑", "severe_weather", "snowstorm"),
    ("下大雪了，货车要不要在服务区等", "severe_weather", "snowstorm"),
    ("forty degrees today, tyres blowing out and the pavement buckled", "severe_weather", "heat_wave"),
    ("red heat warning, blow-outs on the expressway and a raised joint", "severe_weather", "heat_wave"),
    ("高温红色预警，连着几起爆胎，路面拱起来了", "severe_weather", "heat_wave"),
    ("天太热了，四十度，配送要不要改到早上", "severe_weather", "heat_wave"),
    # power_outage
    ("all the traffic lights are out in the district, evening rush hour", "power_outage", "dark_signals"),
    ("signals dark at a dozen junctions after a substation fault", "power_outage", "dark_signals"),
    ("红绿灯全灭了，晚高峰好多路口没信号", "power_outage", "dark_signals"),
    ("变电站故障，一片路口信号灯停电", "power_outage", "dark_signals"),
    ("tunnel lost mains power, emergency lights on but the fans have stopped", "power_outage", "tunnel_power"),
    ("no electricity in the tunnel, ventilation down", "power_outage", "tunnel_power"),
    ("隧道断电了，应急灯亮着，风机停了", "power_outage", "tunnel_power"),
    ("隧道供电中断，要不要封洞口", "power_outage", "tunnel_power"),
    ("toll booths and the ETC gantry have no power, queue building at the plaza", "power_outage", "toll_outage"),
    ("power cut at the toll station, barriers won't work", "power_outage", "toll_outage"),
    ("收费站停电了，ETC用不了，广场排长队", "power_outage", "toll_outage"),
    ("收费站没电，要不要抬杆放行", "power_outage", "toll_outage"),
    ("the whole warehouse is blacked out, dock doors and scanners dead, reefers unplugged", "power_outage", "depot_outage"),
    ("logistics park power failure for the shift, sorting line stopped", "power_outage", "depot_outage"),
    ("物流园整个停电了，月台门和扫码枪都用不了", "power_outage", "depot_outage"),
    ("仓库断电，分拣线停了，冷藏车插电桩没电", "power_outage", "depot_outage"),
    ("the drainage pumping station has lost power and it's raining, water starting to gather", "power_outage", "pump_station_outage"),
    ("pump station blackout during the rain, wet well rising", "power_outage", "pump_station_outage"),
    ("下雨的时候排水泵站停电了，路面开始积水", "power_outage", "pump_station_outage"),
    # cold_chain_failure
    ("fridge unit died on the truck carrying vaccines, logger reads fourteen degrees", "cold_chain_failure", "vaccine_excursion"),
    ("vaccine shipment out of the 2 to 8 range after the reefer failed, can we still deliver it", "cold_chain_failure", "vaccine_excursion"),
    ("运疫苗的冷藏车制冷坏了，温度到了十五度", "cold_chain_failure", "vaccine_excursion"),
    ("疫苗超温了，还能不能送，要不要隔离", "cold_chain_failure", "vaccine_excursion"),
    ("frozen food reefer stuck in a jam for hours and its fridge ran out of diesel", "cold_chain_failure", "frozen_food_jam"),
    ("truck of frozen dumplings stuck behind a closure, unit out of fuel", "cold_chain_failure", "frozen_food_jam"),
    ("冻品车堵在封路的队里好几个小时，冷机没油了", "cold_chain_failure", "frozen_food_jam"),
    ("速冻食品车被堵住了，冷机柴油烧完了", "cold_chain_failure", "frozen_food_jam"),
    ("the compressor at the cold store tripped and the rooms are warming up", "cold_chain_failure", "cold_store_compressor"),
    ("freezer warehouse compressor failure, temperature rising from minus twenty", "cold_chain_failure", "cold_store_compressor"),
    ("冷库压缩机跳闸了，库温一直在升", "cold_chain_failure", "cold_store_compressor"),
    ("冷库制冷坏了，货要不要转到冷藏车上", "cold_chain_failure", "cold_store_compressor"),
    ("chilled seafood containers waiting for customs at the port, two reefer plugs failed", "cold_chain_failure", "seafood_port_delay"),
    ("fresh fish in reefer boxes held at Yangshan for hours, plugs not working", "cold_chain_failure", "seafood_port_delay"),
    ("冰鲜海产集装箱在港口等通关，两个箱子插电坏了", "cold_chain_failure", "seafood_port_delay"),
    ("海鲜冷箱在码头滞留，温度超过五度", "cold_chain_failure", "seafood_port_delay"),
    ("the van doing lots of drops keeps opening its doors and the box is now at nine degrees", "cold_chain_failure", "multi_drop_doors"),
    ("temperature alarm on a chilled produce route with twenty stops", "cold_chain_failure", "multi_drop_doors"),
    ("冷鲜配送车每站开门，厢温升到九度报警了", "cold_chain_failure", "multi_drop_doors"),
    ("多点配送的生鲜车温度报警，还有十几个站没送", "cold_chain_failure", "multi_drop_doors"),
]


def main() -> None:
    """Resolve each query's relevant cases (same scenario) and write ``queries.jsonl``."""
    by_scenario: dict[str, list[str]] = {}
    for line in CASES.read_text(encoding="utf-8").splitlines():
        c = json.loads(line)
        by_scenario.setdefault(c["scenario"], []).append(c["id"])
    rows = []
    for i, (text, itype, scenario) in enumerate(QUERIES, start=1):
        if scenario not in by_scenario:
            raise SystemExit(f"query {i}: no cases for scenario {scenario!r}")
        lang = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "en"
        rows.append({"id": f"q{i:03d}", "query": text, "lang": lang, "incident_type": itype, "scenario": scenario,
                     "relevant": by_scenario[scenario]})
    (HERE / "queries.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


if __name__ == "__main__":
    main()
