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
<context>
    <name>AlarmPanel</name>
    <message>
        <source>Filter by source or alarm text</source>
        <translation>발생원 또는 경보 내용으로 거르기</translation>
    </message>
    <message>
        <source>Acknowledge</source>
        <translation>확인</translation>
    </message>
    <message>
        <source>acknowledge the selected alarms, with a note</source>
        <translation>선택한 경보를 메모와 함께 확인</translation>
    </message>
    <message>
        <source>Acknowledge all</source>
        <translation>모두 확인</translation>
    </message>
    <message>
        <source>acknowledge every unacknowledged alarm, shown or filtered out, with a note</source>
        <translation>표시되었거나 걸러진 미확인 경보를 모두 메모와 함께 확인</translation>
    </message>
    <message>
        <source>Shelve…</source>
        <translation>보류…</translation>
    </message>
    <message>
        <source>hide the selected alarms for a while, with a reason</source>
        <translation>선택한 경보를 사유와 함께 잠시 숨기기</translation>
    </message>
    <message>
        <source>Unshelve</source>
        <translation>보류 해제</translation>
    </message>
    <message>
        <source>Acknowledge {count} alarm(s)</source>
        <translation>경보 {count}건 확인</translation>
    </message>
    <message>
        <source>Acknowledge all alarms</source>
        <translation>모든 경보 확인</translation>
    </message>
    <message>
        <source>{count} alarms · {unacknowledged} unacknowledged · {shown} shown</source>
        <translation>경보 {count}건 · 미확인 {unacknowledged}건 · 표시 {shown}건</translation>
    </message>
</context>
<context>
    <name>ColorFieldPanel</name>
    <message>
        <source>Colour racks by</source>
        <translation>랙 색상 기준</translation>
    </message>
    <message>
        <source>The rack value shown by colour</source>
        <translation>색으로 표시할 랙의 값</translation>
    </message>
</context>
<context>
    <name>EventDialog</name>
    <message>
        <source>Edit the event</source>
        <translation>이벤트 편집</translation>
    </message>
    <message>
        <source>Add an event</source>
        <translation>이벤트 추가</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>종류</translation>
    </message>
</context>
<context>
    <name>ObjectInspector</name>
    <message>
        <source>Fly to</source>
        <translation>이동</translation>
    </message>
    <message>
        <source>Frame the selected object in the 3D view</source>
        <translation>3D 화면에서 선택한 객체로 이동</translation>
    </message>
    <message>
        <source>Plant beside model</source>
        <translation>플랜트와 모델 비교</translation>
    </message>
    <message>
        <source>Drift tracked from the plant's data</source>
        <translation>플랜트 데이터로 추적한 드리프트</translation>
    </message>
    <message>
        <source>Slowly drifting quantities the shadow estimates online (recursive least squares), with a band of two standard deviations; 'design' is the scenario's value</source>
        <translation>섀도가 온라인으로 추정하는 천천히 변하는 양 (재귀 최소제곱), 표준편차 2배의 범위와 함께; '설계'는 시나리오의 값</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>설정</translation>
    </message>
    <message>
        <source>Nothing selected</source>
        <translation>선택한 객체 없음</translation>
    </message>
    <message>
        <source>Click a rack, a CDU, an electrical room, a plant unit, a robot or a workcell in the 3D view.</source>
        <translation>3D 화면에서 랙, CDU, 전기실, 플랜트 설비, 로봇 또는 작업 셀을 클릭하세요.</translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation>항목</translation>
    </message>
    <message>
        <source>Tracked (band)</source>
        <translation>추적값 (범위)</translation>
    </message>
    <message>
        <source>Design</source>
        <translation>설계</translation>
    </message>
    <message>
        <source>Point</source>
        <translation>포인트</translation>
    </message>
    <message>
        <source>Measured</source>
        <translation>측정</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>모델</translation>
    </message>
    <message>
        <source>Difference</source>
        <translation>차이</translation>
    </message>
    <message>
        <source>Plant beside model at {time}</source>
        <translation>플랜트와 모델 비교 ({time})</translation>
    </message>
</context>
<context>
    <name>PowerQualityWindow</name>
    <message>
        <source>twin power quality — {scenario}</source>
        <translation>twin 전력 품질 — {scenario}</translation>
    </message>
    <message>
        <source>frequency</source>
        <translation>주파수</translation>
    </message>
    <message>
        <source>component amplitude (% of the mean draw)</source>
        <translation>성분 진폭 (평균 수전의 %)</translation>
    </message>
    <message>
        <source>also search the least GPU smoothing that passes</source>
        <translation>통과하는 최소 GPU 평활화도 찾기</translation>
    </message>
    <message>
        <source>Run again</source>
        <translation>다시 실행</translation>
    </message>
    <message>
        <source>running {scenario} {duration} s at {step} ms…</source>
        <translation>{scenario} {duration}초를 {step} ms 간격으로 실행 중…</translation>
    </message>
    <message>
        <source>running: {step} ({done} of {total})…</source>
        <translation>실행 중: {step} ({total} 중 {done})…</translation>
    </message>
</context>
<context>
    <name>ShelveDialog</name>
    <message>
        <source>Shelve alarms</source>
        <translation>경보 보류</translation>
    </message>
    <message>
        <source>why, for the journal (required)</source>
        <translation>사유, 기록용 (필수)</translation>
    </message>
    <message>
        <source>Shelve {count} alarm(s) for a while of simulated time.</source>
        <translation>경보 {count}건을 시뮬레이션 시간으로 잠시 보류합니다.</translation>
    </message>
    <message>
        <source>Duration</source>
        <translation>기간</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>사유</translation>
    </message>
</context>
<context>
    <name>TimeControls</name>
    <message>
        <source>Run or pause the simulation (Space)</source>
        <translation>시뮬레이션 실행 또는 일시정지 (스페이스)</translation>
    </message>
    <message>
        <source>Pause and advance one step</source>
        <translation>일시정지하고 한 단계 진행</translation>
    </message>
    <message>
        <source>Simulated time per second of real time</source>
        <translation>실제 1초당 시뮬레이션 시간</translation>
    </message>
    <message>
        <source>{stamp}  day {day}</source>
        <translation>{stamp}  {day}일째</translation>
    </message>
</context>
<context>
    <name>TimelinePanel</name>
    <message>
        <source>Add…</source>
        <translation>추가…</translation>
    </message>
    <message>
        <source>Schedule a new event</source>
        <translation>새 이벤트 예약</translation>
    </message>
    <message>
        <source>Edit…</source>
        <translation>편집…</translation>
    </message>
    <message>
        <source>Change the selected upcoming event (or double-click it)</source>
        <translation>선택한 예정 이벤트 변경 (또는 더블클릭)</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>삭제</translation>
    </message>
    <message>
        <source>Take the selected upcoming event off the timeline (Delete)</source>
        <translation>선택한 예정 이벤트를 타임라인에서 제거 (Delete)</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>실행 취소</translation>
    </message>
    <message>
        <source>Undo the last edit of the timeline (Ctrl+Z)</source>
        <translation>타임라인의 마지막 편집 취소 (Ctrl+Z)</translation>
    </message>
    <message>
        <source>Save timeline…</source>
        <translation>타임라인 저장…</translation>
    </message>
    <message>
        <source>Write the timeline, with the events injected in this session, to the scenario's TOML file; comments and the rest of the file stay as they are</source>
        <translation>이 세션에서 넣은 이벤트를 포함한 타임라인을 시나리오의 TOML 파일에 기록; 주석과 파일의 나머지는 그대로 유지</translation>
    </message>
    <message>
        <source>{scheduled} scheduled, {injected} injected</source>
        <translation>예약 {scheduled}건, 투입 {injected}건</translation>
    </message>
    <message>
        <source> · unsaved changes</source>
        <translation> · 저장하지 않은 변경</translation>
    </message>
</context>
<context>
    <name>_ParameterEditor</name>
    <message>
        <source>Apply</source>
        <translation>적용</translation>
    </message>
</context>
<context>
    <name>alarms</name>
    <message>
        <source>Alarm</source>
        <translation>경보</translation>
    </message>
    <message>
        <source>Limit</source>
        <translation>한계</translation>
    </message>
    <message>
        <source>Priority</source>
        <translation>우선순위</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>발생원</translation>
    </message>
    <message>
        <source>State</source>
        <translation>상태</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>시각</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>값</translation>
    </message>
    <message>
        <source>Note for the journal (optional):</source>
        <translation>기록용 메모 (선택):</translation>
    </message>
    <message>
        <source>BESS state of charge</source>
        <translation>BESS 충전 상태</translation>
    </message>
    <message>
        <source>GPU temperature</source>
        <translation>GPU 온도</translation>
    </message>
    <message>
        <source>TCS return temperature</source>
        <translation>TCS 환수 온도</translation>
    </message>
    <message>
        <source>TCS supply above its setpoint</source>
        <translation>TCS 공급 온도가 설정값 초과</translation>
    </message>
    <message>
        <source>UPS dropped the racks: batteries discharged</source>
        <translation>UPS가 랙 전원 차단: 배터리 방전</translation>
    </message>
    <message>
        <source>UPS loading</source>
        <translation>UPS 부하율</translation>
    </message>
    <message>
        <source>UPS on battery, load shed from the generators</source>
        <translation>UPS 배터리 운전, 발전기에서 부하 차단</translation>
    </message>
    <message>
        <source>a failed transformer or UPS module took the last spare</source>
        <translation>변압기 또는 UPS 모듈 고장으로 마지막 예비 사용</translation>
    </message>
    <message>
        <source>acknowledged</source>
        <translation>확인됨</translation>
    </message>
    <message>
        <source>active</source>
        <translation>발생 중</translation>
    </message>
    <message>
        <source>all states</source>
        <translation>모든 상태</translation>
    </message>
    <message>
        <source>branch differential pressure</source>
        <translation>분기 차압</translation>
    </message>
    <message>
        <source>busway loading</source>
        <translation>버스웨이 부하율</translation>
    </message>
    <message>
        <source>coolant leak detected</source>
        <translation>냉각수 누설 감지</translation>
    </message>
    <message>
        <source>critical</source>
        <translation>긴급</translation>
    </message>
    <message>
        <source>facility valve not following its controller</source>
        <translation>설비 밸브가 제어기를 따르지 않음</translation>
    </message>
    <message>
        <source>facility water supply temperature</source>
        <translation>설비 냉각수 공급 온도</translation>
    </message>
    <message>
        <source>generator set failed</source>
        <translation>발전기 고장</translation>
    </message>
    <message>
        <source>grid import against the import cap</source>
        <translation>수전 상한 대비 계통 수전</translation>
    </message>
    <message>
        <source>hall air temperature</source>
        <translation>홀 공기 온도</translation>
    </message>
    <message>
        <source>high</source>
        <translation>높음</translation>
    </message>
    <message>
        <source>low</source>
        <translation>낮음</translation>
    </message>
    <message>
        <source>main transformer loading</source>
        <translation>주변압기 부하율</translation>
    </message>
    <message>
        <source>medium</source>
        <translation>중간</translation>
    </message>
    <message>
        <source>no pump running</source>
        <translation>운전 중인 펌프 없음</translation>
    </message>
    <message>
        <source>normal</source>
        <translation>정상</translation>
    </message>
    <message>
        <source>off</source>
        <translation>꺼짐</translation>
    </message>
    <message>
        <source>on</source>
        <translation>켜짐</translation>
    </message>
    <message>
        <source>plant transformer loading</source>
        <translation>플랜트 변압기 부하율</translation>
    </message>
    <message>
        <source>rack coolant flow</source>
        <translation>랙 냉각수 유량</translation>
    </message>
    <message>
        <source>rack tripped</source>
        <translation>랙 트립</translation>
    </message>
    <message>
        <source>returned to normal</source>
        <translation>정상 복귀</translation>
    </message>
    <message>
        <source>returned unacknowledged</source>
        <translation>미확인 정상 복귀</translation>
    </message>
    <message>
        <source>shelved</source>
        <translation>보류됨</translation>
    </message>
    <message>
        <source>show critical priority alarms</source>
        <translation>긴급 우선순위 경보 표시</translation>
    </message>
    <message>
        <source>show high priority alarms</source>
        <translation>높음 우선순위 경보 표시</translation>
    </message>
    <message>
        <source>show low priority alarms</source>
        <translation>낮음 우선순위 경보 표시</translation>
    </message>
    <message>
        <source>show medium priority alarms</source>
        <translation>중간 우선순위 경보 표시</translation>
    </message>
    <message>
        <source>state</source>
        <translation>상태</translation>
    </message>
    <message>
        <source>suppressed</source>
        <translation>억제됨</translation>
    </message>
    <message>
        <source>unacknowledged</source>
        <translation>미확인</translation>
    </message>
    <message>
        <source>unit-substation transformer loading</source>
        <translation>단위 변전소 변압기 부하율</translation>
    </message>
    <message>
        <source>utility outage</source>
        <translation>상용 전원 정전</translation>
    </message>
</context>
<context>
    <name>colors</name>
    <message>
        <source>10×</source>
        <translation>10×</translation>
    </message>
    <message>
        <source>1× real time</source>
        <translation>실시간 1×</translation>
    </message>
    <message>
        <source>3600× (1 h/s)</source>
        <translation>3600× (1시간/초)</translation>
    </message>
    <message>
        <source>600×</source>
        <translation>600×</translation>
    </message>
    <message>
        <source>60× (1 min/s)</source>
        <translation>60× (1분/초)</translation>
    </message>
    <message>
        <source>As fast as possible</source>
        <translation>최대 속도</translation>
    </message>
    <message>
        <source>CDU supply</source>
        <translation>CDU 공급</translation>
    </message>
    <message>
        <source>Coolant outlet temperature</source>
        <translation>냉각수 출구 온도</translation>
    </message>
    <message>
        <source>GPU temperature</source>
        <translation>GPU 온도</translation>
    </message>
    <message>
        <source>Plant - model: rack coolant flow</source>
        <translation>플랜트 - 모델: 랙 냉각수 유량</translation>
    </message>
    <message>
        <source>Plant - model: rack return temperature</source>
        <translation>플랜트 - 모델: 랙 환수 온도</translation>
    </message>
    <message>
        <source>Rack power</source>
        <translation>랙 전력</translation>
    </message>
    <message>
        <source>Throttling state</source>
        <translation>스로틀링 상태</translation>
    </message>
    <message>
        <source>Utilization</source>
        <translation>가동률</translation>
    </message>
    <message>
        <source>agree</source>
        <translation>일치</translation>
    </message>
    <message>
        <source>normal</source>
        <translation>정상</translation>
    </message>
    <message>
        <source>not compared</source>
        <translation>비교 안 함</translation>
    </message>
    <message>
        <source>throttle</source>
        <translation>스로틀</translation>
    </message>
    <message>
        <source>throttled</source>
        <translation>스로틀링</translation>
    </message>
    <message>
        <source>tripped</source>
        <translation>트립</translation>
    </message>
</context>
<context>
    <name>legend</name>
    <message>
        <source>Battery (BESS)</source>
        <translation>배터리 (BESS)</translation>
    </message>
    <message>
        <source>CDU</source>
        <translation>CDU</translation>
    </message>
    <message>
        <source>CDU with no pump running</source>
        <translation>펌프가 멈춘 CDU</translation>
    </message>
    <message>
        <source>Cooling</source>
        <translation>냉각</translation>
    </message>
    <message>
        <source>Generators</source>
        <translation>발전기</translation>
    </message>
    <message>
        <source>Rack status lights (seen up close); hot racks glow in their own colour</source>
        <translation>랙 상태 표시등 (가까이서 보임); 뜨거운 랙은 자기 색으로 빛남</translation>
    </message>
    <message>
        <source>Racks</source>
        <translation>랙</translation>
    </message>
    <message>
        <source>Robots</source>
        <translation>로봇</translation>
    </message>
    <message>
        <source>Transformers, UPS, busways: loading of the units in service</source>
        <translation>변압기, UPS, 버스웨이: 운전 중인 설비의 부하율</translation>
    </message>
    <message>
        <source>Utility line</source>
        <translation>상용 전원 선로</translation>
    </message>
    <message>
        <source>charging</source>
        <translation>충전 중</translation>
    </message>
    <message>
        <source>chiller running</source>
        <translation>칠러 운전 중</translation>
    </message>
    <message>
        <source>dead: utility outage</source>
        <translation>무전압: 상용 전원 정전</translation>
    </message>
    <message>
        <source>discharging</source>
        <translation>방전 중</translation>
    </message>
    <message>
        <source>dry cooler or chiller stopped</source>
        <translation>건식 냉각기 또는 칠러 정지</translation>
    </message>
    <message>
        <source>dry cooler running</source>
        <translation>건식 냉각기 운전 중</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>고장</translation>
    </message>
    <message>
        <source>idle</source>
        <translation>대기</translation>
    </message>
    <message>
        <source>live</source>
        <translation>충전됨</translation>
    </message>
    <message>
        <source>no power</source>
        <translation>전원 없음</translation>
    </message>
    <message>
        <source>no value: a plant point not compared (shadow)</source>
        <translation>값 없음: 비교하지 않은 플랜트 포인트 (섀도)</translation>
    </message>
    <message>
        <source>overloaded: above 100 %</source>
        <translation>과부하: 100 % 초과</translation>
    </message>
    <message>
        <source>running</source>
        <translation>운전 중</translation>
    </message>
    <message>
        <source>safety zone, robots running</source>
        <translation>안전 구역, 로봇 운전 중</translation>
    </message>
    <message>
        <source>safety zone, robots stopped</source>
        <translation>안전 구역, 로봇 정지</translation>
    </message>
    <message>
        <source>selected</source>
        <translation>선택됨</translation>
    </message>
    <message>
        <source>service robot's beacon: charging at its dock</source>
        <translation>서비스 로봇 표시등: 도크에서 충전 중</translation>
    </message>
    <message>
        <source>service robot's beacon: driving</source>
        <translation>서비스 로봇 표시등: 주행 중</translation>
    </message>
    <message>
        <source>service robot's beacon: faulted</source>
        <translation>서비스 로봇 표시등: 고장</translation>
    </message>
    <message>
        <source>service robot's beacon: idle</source>
        <translation>서비스 로봇 표시등: 대기</translation>
    </message>
    <message>
        <source>service robot's beacon: waiting</source>
        <translation>서비스 로봇 표시등: 기다리는 중</translation>
    </message>
    <message>
        <source>service robot's beacon: working</source>
        <translation>서비스 로봇 표시등: 작업 중</translation>
    </message>
    <message>
        <source>service robot's route</source>
        <translation>서비스 로봇 경로</translation>
    </message>
    <message>
        <source>starting</source>
        <translation>기동 중</translation>
    </message>
    <message>
        <source>state-of-charge bar on the roof</source>
        <translation>지붕 위의 충전 상태 막대</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>정지</translation>
    </message>
    <message>
        <source>throttling to stay below the GPU limit</source>
        <translation>GPU 한계 이하로 유지하려 스로틀링</translation>
    </message>
    <message>
        <source>tripped</source>
        <translation>트립</translation>
    </message>
    <message>
        <source>tripped: offline above the critical temperature</source>
        <translation>트립: 임계 온도 초과로 정지</translation>
    </message>
    <message>
        <source>water flowing (dots move with it)</source>
        <translation>물 흐름 (점이 함께 움직임)</translation>
    </message>
    <message>
        <source>water standing still</source>
        <translation>물 정지</translation>
    </message>
    <message>
        <source>workcell pedestal (safety yellow)</source>
        <translation>작업 셀 받침대 (안전 노란색)</translation>
    </message>
</context>
<context>
    <name>objects</name>
    <message>
        <source>Battery</source>
        <translation>배터리</translation>
    </message>
    <message>
        <source>Battery storage (BESS)</source>
        <translation>배터리 저장 장치 (BESS)</translation>
    </message>
    <message>
        <source>Branch dp</source>
        <translation>분기 차압</translation>
    </message>
    <message>
        <source>COP</source>
        <translation>COP</translation>
    </message>
    <message>
        <source>Chillers</source>
        <translation>칠러</translation>
    </message>
    <message>
        <source>Coolant flow</source>
        <translation>냉각수 유량</translation>
    </message>
    <message>
        <source>Coolant inlet</source>
        <translation>냉각수 입구</translation>
    </message>
    <message>
        <source>Coolant outlet</source>
        <translation>냉각수 출구</translation>
    </message>
    <message>
        <source>Cycles done</source>
        <translation>완료한 사이클</translation>
    </message>
    <message>
        <source>Drawn from the site</source>
        <translation>사이트에서 받는 전력</translation>
    </message>
    <message>
        <source>Dry coolers</source>
        <translation>건식 냉각기</translation>
    </message>
    <message>
        <source>Duty</source>
        <translation>냉각 부하</translation>
    </message>
    <message>
        <source>Electrical losses</source>
        <translation>전기 손실</translation>
    </message>
    <message>
        <source>Emergency stop</source>
        <translation>비상 정지</translation>
    </message>
    <message>
        <source>Facility valve</source>
        <translation>설비 밸브</translation>
    </message>
    <message>
        <source>Facility water return</source>
        <translation>설비 냉각수 환수</translation>
    </message>
    <message>
        <source>Facility water supply</source>
        <translation>설비 냉각수 공급</translation>
    </message>
    <message>
        <source>Fan speed</source>
        <translation>팬 속도</translation>
    </message>
    <message>
        <source>Fixed pump speed</source>
        <translation>고정 펌프 속도</translation>
    </message>
    <message>
        <source>Fleet mean time to repair</source>
        <translation>전체 평균 수리 시간</translation>
    </message>
    <message>
        <source>Flow</source>
        <translation>유량</translation>
    </message>
    <message>
        <source>GPU power cap</source>
        <translation>GPU 전력 상한</translation>
    </message>
    <message>
        <source>GPU power cap, whole hall</source>
        <translation>GPU 전력 상한, 홀 전체</translation>
    </message>
    <message>
        <source>GPU power smoothing</source>
        <translation>GPU 전력 평활화</translation>
    </message>
    <message>
        <source>GPU temperature</source>
        <translation>GPU 온도</translation>
    </message>
    <message>
        <source>Generators</source>
        <translation>발전기</translation>
    </message>
    <message>
        <source>Grid import</source>
        <translation>계통 수전</translation>
    </message>
    <message>
        <source>Gripper</source>
        <translation>그리퍼</translation>
    </message>
    <message>
        <source>Hall air</source>
        <translation>홀 공기</translation>
    </message>
    <message>
        <source>Heading</source>
        <translation>방향</translation>
    </message>
    <message>
        <source>Heat rejected</source>
        <translation>방열량</translation>
    </message>
    <message>
        <source>Heat to facility water</source>
        <translation>설비 냉각수로 간 열</translation>
    </message>
    <message>
        <source>Heat to liquid</source>
        <translation>액체로 간 열</translation>
    </message>
    <message>
        <source>Hottest GPU</source>
        <translation>최고 GPU 온도</translation>
    </message>
    <message>
        <source>IT power</source>
        <translation>IT 전력</translation>
    </message>
    <message>
        <source>Import cap</source>
        <translation>수전 상한</translation>
    </message>
    <message>
        <source>Joint 7</source>
        <translation>관절 7</translation>
    </message>
    <message>
        <source>Mean time to repair</source>
        <translation>평균 수리 시간</translation>
    </message>
    <message>
        <source>Repairs done</source>
        <translation>완료한 수리</translation>
    </message>
    <message>
        <source>Tripped racks waiting</source>
        <translation>수리를 기다리는 트립된 랙</translation>
    </message>
    <message>
        <source>Joint 1</source>
        <translation>관절 1</translation>
    </message>
    <message>
        <source>Joint 2</source>
        <translation>관절 2</translation>
    </message>
    <message>
        <source>Joint 3</source>
        <translation>관절 3</translation>
    </message>
    <message>
        <source>Joint 4</source>
        <translation>관절 4</translation>
    </message>
    <message>
        <source>Joint 5</source>
        <translation>관절 5</translation>
    </message>
    <message>
        <source>Joint 6</source>
        <translation>관절 6</translation>
    </message>
    <message>
        <source>Loading</source>
        <translation>부하율</translation>
    </message>
    <message>
        <source>Low-voltage bus</source>
        <translation>저압 모선</translation>
    </message>
    <message>
        <source>Main transformers</source>
        <translation>주변압기</translation>
    </message>
    <message>
        <source>Medium-voltage bus</source>
        <translation>중압 모선</translation>
    </message>
    <message>
        <source>OEE</source>
        <translation>OEE</translation>
    </message>
    <message>
        <source>Outdoor dry-bulb</source>
        <translation>외기 건구 온도</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>출력</translation>
    </message>
    <message>
        <source>Person enters the zone</source>
        <translation>사람이 구역에 들어옴</translation>
    </message>
    <message>
        <source>Position east</source>
        <translation>동쪽 위치</translation>
    </message>
    <message>
        <source>Position north</source>
        <translation>북쪽 위치</translation>
    </message>
    <message>
        <source>Power</source>
        <translation>전력</translation>
    </message>
    <message>
        <source>Power (+ discharging)</source>
        <translation>전력 (+ 방전)</translation>
    </message>
    <message>
        <source>Pump control</source>
        <translation>펌프 제어</translation>
    </message>
    <message>
        <source>Pump power</source>
        <translation>펌프 전력</translation>
    </message>
    <message>
        <source>Pump speed</source>
        <translation>펌프 속도</translation>
    </message>
    <message>
        <source>Pumps running</source>
        <translation>운전 중인 펌프</translation>
    </message>
    <message>
        <source>Reset and start</source>
        <translation>리셋 후 시작</translation>
    </message>
    <message>
        <source>Reset tripped racks</source>
        <translation>트립된 랙 리셋</translation>
    </message>
    <message>
        <source>Restore a pump</source>
        <translation>펌프 복구</translation>
    </message>
    <message>
        <source>Return</source>
        <translation>환수</translation>
    </message>
    <message>
        <source>Robot power</source>
        <translation>로봇 전력</translation>
    </message>
    <message>
        <source>Robots charging</source>
        <translation>충전 중인 로봇</translation>
    </message>
    <message>
        <source>Robots fault</source>
        <translation>고장 난 로봇</translation>
    </message>
    <message>
        <source>Robots idle</source>
        <translation>대기 중인 로봇</translation>
    </message>
    <message>
        <source>Robots moving</source>
        <translation>이동 중인 로봇</translation>
    </message>
    <message>
        <source>Robots waiting</source>
        <translation>기다리는 로봇</translation>
    </message>
    <message>
        <source>Robots working</source>
        <translation>작업 중인 로봇</translation>
    </message>
    <message>
        <source>State</source>
        <translation>상태</translation>
    </message>
    <message>
        <source>State of charge</source>
        <translation>충전 상태</translation>
    </message>
    <message>
        <source>Supply</source>
        <translation>공급</translation>
    </message>
    <message>
        <source>Supply setpoint</source>
        <translation>공급 설정값</translation>
    </message>
    <message>
        <source>Target rack</source>
        <translation>대상 랙</translation>
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
        <source>Transformer loading</source>
        <translation>변압기 부하율</translation>
    </message>
    <message>
        <source>Trip a pump</source>
        <translation>펌프 트립</translation>
    </message>
    <message>
        <source>UPS loading</source>
        <translation>UPS 부하율</translation>
    </message>
    <message>
        <source>Units failed</source>
        <translation>고장 대수</translation>
    </message>
    <message>
        <source>Units online</source>
        <translation>운전 대수</translation>
    </message>
    <message>
        <source>Units running</source>
        <translation>운전 대수</translation>
    </message>
    <message>
        <source>Units starting</source>
        <translation>기동 중 대수</translation>
    </message>
    <message>
        <source>Utilization</source>
        <translation>가동률</translation>
    </message>
    <message>
        <source>automatic (dp setpoint)</source>
        <translation>자동 (차압 설정값)</translation>
    </message>
    <message>
        <source>bring every tripped rack back online, as an operator's reset after the cause is cleared</source>
        <translation>원인이 해소된 뒤 운전원이 리셋하듯 트립된 랙을 모두 다시 가동</translation>
    </message>
    <message>
        <source>clear the cell's stop and carry on where its robots stood</source>
        <translation>셀의 정지를 해제하고 로봇이 멈춘 곳에서 계속</translation>
    </message>
    <message>
        <source>fixed speed</source>
        <translation>고정 속도</translation>
    </message>
    <message>
        <source>off</source>
        <translation>꺼짐</translation>
    </message>
    <message>
        <source>on</source>
        <translation>켜짐</translation>
    </message>
    <message>
        <source>put one tripped pump back in service</source>
        <translation>트립된 펌프 하나를 다시 운전</translation>
    </message>
    <message>
        <source>someone steps into the guarded zone: a protective stop of the cell's robots</source>
        <translation>누군가 보호 구역에 들어옴: 셀 로봇의 보호 정지</translation>
    </message>
    <message>
        <source>stop every robot of the cell where it stands</source>
        <translation>셀의 모든 로봇을 그 자리에서 정지</translation>
    </message>
    <message>
        <source>take one pump out of service</source>
        <translation>펌프 하나를 운전에서 제외</translation>
    </message>
</context>
<context>
    <name>timeline</name>
    <message>
        <source>Details</source>
        <translation>세부 내용</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>이벤트</translation>
    </message>
    <message>
        <source>From</source>
        <translation>출처</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>상태</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>시각</translation>
    </message>
    <message>
        <source>This timeline is shown as it was recorded; edit a scenario's timeline while it runs live</source>
        <translation>이 타임라인은 기록된 그대로 표시됩니다; 시나리오의 타임라인은 실시간 실행 중에 편집하세요</translation>
    </message>
    <message>
        <source>applied before a reset</source>
        <translation>리셋 전에 적용됨</translation>
    </message>
    <message>
        <source>applied before a reset, not saved</source>
        <translation>리셋 전에 적용됨, 저장 안 됨</translation>
    </message>
    <message>
        <source>done</source>
        <translation>완료</translation>
    </message>
    <message>
        <source>done, not saved</source>
        <translation>완료, 저장 안 됨</translation>
    </message>
    <message>
        <source>operator</source>
        <translation>운전원</translation>
    </message>
    <message>
        <source>timeline</source>
        <translation>타임라인</translation>
    </message>
    <message>
        <source>upcoming</source>
        <translation>예정</translation>
    </message>
    <message>
        <source>upcoming, not saved</source>
        <translation>예정, 저장 안 됨</translation>
    </message>
</context>
</TS>
