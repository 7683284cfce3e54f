<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ko_KR" sourcelanguage="en_US">
<context>
    <name>kiosk</name>
    <message>
        <source>IT power</source>
        <translation>IT 전력</translation>
    </message>
    <message>
        <source>PUE</source>
        <translation>PUE</translation>
    </message>
    <message>
        <source>Tokens per second</source>
        <translation>초당 토큰</translation>
    </message>
    <message>
        <source>Grid import / cap</source>
        <translation>수전 전력 / 한도</translation>
    </message>
    <message>
        <source>Hottest GPU</source>
        <translation>최고 GPU 온도</translation>
    </message>
    <message>
        <source>Drag to look around · wheel to zoom · tap a rack to see it</source>
        <translation>드래그로 둘러보기 · 휠로 확대 · 랙을 누르면 상세 정보</translation>
    </message>
    <message>
        <source>The tour resumes in {seconds} s</source>
        <translation>{seconds}초 후 투어가 다시 시작됩니다</translation>
    </message>
    <message>
        <source>GPU temperature</source>
        <translation>GPU 온도</translation>
    </message>
    <message>
        <source>Coolant outlet temperature</source>
        <translation>냉각수 출구 온도</translation>
    </message>
    <message>
        <source>Rack power</source>
        <translation>랙 전력</translation>
    </message>
    <message>
        <source>Utilization</source>
        <translation>사용률</translation>
    </message>
    <message>
        <source>Throttling state</source>
        <translation>스로틀링 상태</translation>
    </message>
    <message>
        <source>normal</source>
        <translation>정상</translation>
    </message>
    <message>
        <source>throttled</source>
        <translation>스로틀링</translation>
    </message>
    <message>
        <source>tripped</source>
        <translation>정지(트립)</translation>
    </message>
    <message>
        <source>throttle</source>
        <translation>스로틀링 시작</translation>
    </message>
    <message>
        <source>CDU supply</source>
        <translation>CDU 공급</translation>
    </message>
    <message>
        <source>Outdoor {temperature}</source>
        <translation>외기 {temperature}</translation>
    </message>
    <message>
        <source>Grid import</source>
        <translation>수전 전력</translation>
    </message>
    <message>
        <source>last {minutes} simulated min</source>
        <translation>최근 시뮬레이션 {minutes}분</translation>
    </message>
</context>
<context>
    <name>story</name>
    <message>
        <source>This is a live digital twin of a 44 MW AI factory near Seoul: 336 liquid-cooled GPU racks, their cooling plant and the power chain from the 154 kV grid, simulated as you watch.</source>
        <translation>서울 근교 44 MW급 AI 팩토리의 실시간 디지털 트윈입니다. 액체 냉각 GPU 랙 336대와 냉각 설비, 154 kV 전력망에서 이어지는 전력 계통이 지금 보시는 그대로 시뮬레이션됩니다.</translation>
    </message>
    <message>
        <source>Morning in Seoul. As people wake up, requests to the AI assistant served from hall 2 climb, and the racks' utilization and tokens per second rise with them.</source>
        <translation>서울의 아침. 사람들이 하루를 시작하면 2홀에서 서비스하는 AI 어시스턴트 요청이 늘고, 랙 사용률과 초당 토큰 수도 함께 올라갑니다.</translation>
    </message>
    <message>
        <source>Two coolant distribution units lose their pumps. Coolant stops in two rows of racks; within a minute their GPUs throttle, then shut down before they overheat, and tokens per second fall.</source>
        <translation>냉각수 분배 장치(CDU) 두 대의 펌프가 모두 멈췄습니다. 두 열의 랙에 냉각수가 끊기고, 1분 안에 GPU가 성능을 낮추다가 과열 전에 스스로 꺼지면서 초당 토큰 수가 떨어집니다.</translation>
    </message>
    <message>
        <source>The pumps are restarted and the service robots drive out to the racks that shut down. Each repair takes about twenty minutes; rack by rack, the rows come back.</source>
        <translation>펌프가 다시 가동되고 서비스 로봇이 꺼진 랙으로 출동합니다. 수리는 랙마다 약 20분, 한 대씩 두 열이 되살아납니다.</translation>
    </message>
    <message>
        <source>In hall 1 a new frontier training run starts. Its 12,096 GPUs compute and exchange gradients in lock-step, so the hall's power swings by megawatts every two seconds.</source>
        <translation>1홀에서 새로운 초거대 모델 학습이 시작됩니다. GPU 12,096개가 한 박자로 계산하고 그래디언트를 주고받기 때문에 홀 전력이 2초마다 수 메가와트씩 출렁입니다.</translation>
    </message>
    <message>
        <source>GPU power smoothing holds each GPU above a power floor and ramps it gently; the battery storage absorbs the rest, so the grid sees a steady load.</source>
        <translation>GPU 전력 평활화가 GPU마다 최저 전력을 지키며 완만하게 올리고 내립니다. 나머지는 배터리 저장장치가 흡수해 전력망에는 고른 부하가 보입니다.</translation>
    </message>
    <message>
        <source>A summer heatwave pushes the afternoon past 35 °C. The dry coolers can no longer reach 30 °C water on their own, so the chillers take over, and PUE rises.</source>
        <translation>여름 폭염으로 오후 기온이 35 °C를 넘습니다. 건식 냉각기만으로는 30 °C 냉각수를 만들 수 없어 냉동기가 일을 넘겨받고, PUE가 올라갑니다.</translation>
    </message>
    <message>
        <source>KEPCO asks for 14 MW less for an hour at the evening peak. The battery covers what it can at once and GPU power caps shave the rest: grid import drops within seconds.</source>
        <translation>저녁 피크에 한전이 한 시간 동안 14 MW 감축을 요청합니다. 배터리가 즉시 감당할 수 있는 만큼 맡고 나머지는 GPU 전력 상한으로 줄여, 몇 초 만에 수전 전력이 내려갑니다.</translation>
    </message>
    <message>
        <source>Next door, robot workcells build servers. Their vision and motion policies run on the AI served from hall 2, so the factory's AI paces its own production line.</source>
        <translation>옆에서는 로봇 작업셀이 서버를 조립합니다. 로봇의 비전과 동작 정책이 2홀의 AI로 실행되니, AI 팩토리가 스스로 생산 라인의 속도를 정하는 셈입니다.</translation>
    </message>
    <message>
        <source>Humanoid robots learn everyday tasks on the bench, such as folding towels, with the same models.</source>
        <translation>휴머노이드 로봇도 같은 모델로 수건 개기 같은 일상 작업을 익힙니다.</translation>
    </message>
    <message>
        <source>Everything you saw is one coupled simulation running faster than real time. Touch the screen to explore it yourself.</source>
        <translation>지금 보신 모든 것은 실제보다 빠르게 돌아가는 하나의 연성 시뮬레이션입니다. 화면을 터치해 직접 둘러보세요.</translation>
    </message>
    <message>
        <source>Inference racks follow demand</source>
        <translation>추론 랙이 수요를 따라갑니다</translation>
    </message>
    <message>
        <source>Both pumps tripped</source>
        <translation>펌프 두 대 모두 정지</translation>
    </message>
    <message>
        <source>Service robots dispatched</source>
        <translation>서비스 로봇 출동</translation>
    </message>
    <message>
        <source>Power swings with every iteration</source>
        <translation>반복마다 출렁이는 전력</translation>
    </message>
    <message>
        <source>Battery smooths the swings</source>
        <translation>배터리가 출렁임을 흡수</translation>
    </message>
    <message>
        <source>Chillers take over</source>
        <translation>냉동기가 넘겨받음</translation>
    </message>
    <message>
        <source>Grid import cut by 14 MW</source>
        <translation>수전 전력 14 MW 감축</translation>
    </message>
    <message>
        <source>Cobots and a press arm on a conveyor</source>
        <translation>컨베이어 옆 협동로봇과 프레스 암</translation>
    </message>
    <message>
        <source>Humanoids at work</source>
        <translation>작업 중인 휴머노이드</translation>
    </message>
</context>
<context>
    <name>scene</name>
    <message>
        <source>Cooling yard</source>
        <translation>냉각 야드</translation>
    </message>
    <message>
        <source>Substation &amp; backup power</source>
        <translation>변전소 · 비상 전원</translation>
    </message>
    <message>
        <source>air {temperature}</source>
        <translation>공기 {temperature}</translation>
    </message>
    <message>
        <source>facility water {supply} / {ret}</source>
        <translation>설비 냉각수 {supply} / {ret}</translation>
    </message>
    <message>
        <source>dry coolers {running}/{total}</source>
        <translation>건식 냉각기 {running}/{total}</translation>
    </message>
    <message>
        <source>fans {percent} %</source>
        <translation>팬 {percent} %</translation>
    </message>
    <message>
        <source>chillers {running}/{total}</source>
        <translation>냉동기 {running}/{total}</translation>
    </message>
    <message>
        <source>{percent} % loaded</source>
        <translation>부하 {percent} %</translation>
    </message>
    <message>
        <source>utility on</source>
        <translation>한전 수전 중</translation>
    </message>
    <message>
        <source>UTILITY LOST</source>
        <translation>한전 정전</translation>
    </message>
    <message>
        <source>BESS {soc} % charging {power}</source>
        <translation>BESS {soc} % 충전 {power}</translation>
    </message>
    <message>
        <source>BESS {soc} % discharging {power}</source>
        <translation>BESS {soc} % 방전 {power}</translation>
    </message>
    <message>
        <source>BESS {soc} % idle</source>
        <translation>BESS {soc} % 대기</translation>
    </message>
    <message>
        <source>generators {online}/{total}</source>
        <translation>발전기 {online}/{total}</translation>
    </message>
    <message>
        <source>assembly</source>
        <translation>조립</translation>
    </message>
    <message>
        <source>humanoid</source>
        <translation>휴머노이드</translation>
    </message>
    <message>
        <source>service</source>
        <translation>서비스</translation>
    </message>
    <message>
        <source>hall</source>
        <translation>홀</translation>
    </message>
    <message>
        <source>bench</source>
        <translation>작업대</translation>
    </message>
    <message>
        <source>lab</source>
        <translation>실험실</translation>
    </message>
    <message>
        <source>cell</source>
        <translation>셀</translation>
    </message>
</context>
</TS>
