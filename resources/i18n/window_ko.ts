<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ko_KR">
<context>
    <name>MainWindow</name>
    <message>
        <source>Fly the camera to a saved viewpoint</source>
        <translation>저장된 시점으로 카메라 이동</translation>
    </message>
    <message>
        <source>Inspector</source>
        <translation>속성</translation>
    </message>
    <message>
        <source>Legend</source>
        <translation>범례</translation>
    </message>
    <message>
        <source>Trends</source>
        <translation>추세</translation>
    </message>
    <message>
        <source>Timeline</source>
        <translation>타임라인</translation>
    </message>
    <message>
        <source>Alarms</source>
        <translation>경보</translation>
    </message>
    <message>
        <source>Alarms ({count}, {unacknowledged} unacknowledged)</source>
        <translation>경보 ({count}, 미확인 {unacknowledged})</translation>
    </message>
    <message>
        <source>View</source>
        <translation>시점</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>파일(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Open scenario…</source>
        <translation>시나리오 열기(&amp;O)…</translation>
    </message>
    <message>
        <source>&amp;Built-in scenarios</source>
        <translation>기본 시나리오(&amp;B)</translation>
    </message>
    <message>
        <source>&amp;Compare with</source>
        <translation>비교 대상(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Recording folder…</source>
        <translation>기록 폴더(&amp;R)…</translation>
    </message>
    <message>
        <source>Run &amp;table (CSV, Parquet)…</source>
        <translation>실행 결과 표(&amp;T) (CSV, Parquet)…</translation>
    </message>
    <message>
        <source>&amp;Stop comparing</source>
        <translation>비교 중지(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>종료(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Simulation</source>
        <translation>시뮬레이션(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Run / pause</source>
        <translation>실행 / 일시정지(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Step</source>
        <translation>한 단계(&amp;S)</translation>
    </message>
    <message>
        <source>Re&amp;set to the start</source>
        <translation>처음으로 되돌리기(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Power quality…</source>
        <translation>전력 품질(&amp;P)…</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>보기(&amp;V)</translation>
    </message>
    <message>
        <source>Dark theme</source>
        <translation>어두운 테마</translation>
    </message>
    <message>
        <source>Light theme</source>
        <translation>밝은 테마</translation>
    </message>
    <message>
        <source>&amp;Units</source>
        <translation>단위(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>언어(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Anti-aliasing (FXAA)</source>
        <translation>안티앨리어싱 (FXAA)(&amp;A)</translation>
    </message>
    <message>
        <source>Automatic (on with a graphics card, off on software OpenGL)</source>
        <translation>자동 (그래픽 카드에서 켜짐, 소프트웨어 OpenGL에서 꺼짐)</translation>
    </message>
    <message>
        <source>On</source>
        <translation>켜기</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>끄기</translation>
    </message>
    <message>
        <source>&amp;Layers</source>
        <translation>레이어(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>도움말(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;About twin</source>
        <translation>twin 정보(&amp;A)</translation>
    </message>
    <message>
        <source>{language} from the next start or the next scenario opened</source>
        <translation>{language}: 다음 시작 또는 다음 시나리오를 열 때부터 적용</translation>
    </message>
</context>
<context>
    <name>kpi</name>
    <message>
        <source>IT power</source>
        <translation>IT 전력</translation>
    </message>
    <message>
        <source>Facility power</source>
        <translation>시설 전력</translation>
    </message>
    <message>
        <source>PUE</source>
        <translation>PUE</translation>
    </message>
    <message>
        <source>Tokens/s</source>
        <translation>토큰/초</translation>
    </message>
    <message>
        <source>Grid import</source>
        <translation>계통 수전</translation>
    </message>
    <message>
        <source>BESS</source>
        <translation>BESS</translation>
    </message>
    <message>
        <source>Hottest GPU</source>
        <translation>최고 GPU 온도</translation>
    </message>
    <message>
        <source>Throttled GPUs</source>
        <translation>스로틀링 GPU</translation>
    </message>
    <message>
        <source>Tripped racks</source>
        <translation>트립된 랙</translation>
    </message>
    <message>
        <source>Cost</source>
        <translation>비용</translation>
    </message>
    <message>
        <source>CO₂</source>
        <translation>CO₂</translation>
    </message>
</context>
<context>
    <name>trends</name>
    <message>
        <source>Click to collapse or open this plot</source>
        <translation>클릭하면 이 그래프를 접거나 펼칩니다</translation>
    </message>
    <message>
        <source>Selected object</source>
        <translation>선택한 객체</translation>
    </message>
    <message>
        <source>Plots</source>
        <translation>그래프</translation>
    </message>
    <message>
        <source>Choose the plots shown</source>
        <translation>표시할 그래프 선택</translation>
    </message>
    <message>
        <source>Simulated time shown</source>
        <translation>표시할 시뮬레이션 시간</translation>
    </message>
    <message>
        <source>Live</source>
        <translation>실시간</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>내보내기</translation>
    </message>
    <message>
        <source>Save the plots shown as an image or their data as CSV</source>
        <translation>표시된 그래프를 이미지로, 데이터를 CSV로 저장</translation>
    </message>
    <message>
        <source>Window</source>
        <translation>구간</translation>
    </message>
    <message>
        <source>Power</source>
        <translation>전력</translation>
    </message>
    <message>
        <source>IT power</source>
        <translation>IT 전력</translation>
    </message>
    <message>
        <source>Facility power</source>
        <translation>시설 전력</translation>
    </message>
    <message>
        <source>Grid import</source>
        <translation>계통 수전</translation>
    </message>
    <message>
        <source>Import cap</source>
        <translation>수전 상한</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>온도</translation>
    </message>
    <message>
        <source>Hottest GPU</source>
        <translation>최고 GPU 온도</translation>
    </message>
    <message>
        <source>TCS supply</source>
        <translation>TCS 공급</translation>
    </message>
    <message>
        <source>TCS return</source>
        <translation>TCS 환수</translation>
    </message>
    <message>
        <source>Facility water</source>
        <translation>설비 냉각수</translation>
    </message>
    <message>
        <source>PUE</source>
        <translation>PUE</translation>
    </message>
    <message>
        <source>Throughput</source>
        <translation>처리량</translation>
    </message>
    <message>
        <source>Tokens/s</source>
        <translation>토큰/초</translation>
    </message>
    <message>
        <source>BESS SoC</source>
        <translation>BESS 충전 상태</translation>
    </message>
    <message>
        <source>State of charge</source>
        <translation>충전 상태</translation>
    </message>
    <message>
        <source>Throttled</source>
        <translation>스로틀링</translation>
    </message>
    <message>
        <source>Throttled GPUs</source>
        <translation>스로틀링 GPU</translation>
    </message>
    <message>
        <source>Cost</source>
        <translation>비용</translation>
    </message>
    <message>
        <source>Electricity cost</source>
        <translation>전기 요금</translation>
    </message>
    <message>
        <source>CO₂</source>
        <translation>CO₂</translation>
    </message>
    <message>
        <source>CO₂ emissions</source>
        <translation>CO₂ 배출</translation>
    </message>
</context>
</TS>
