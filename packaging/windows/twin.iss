; Inno Setup 6.3+ script: a per-user or per-machine installer for the Windows bundle.
; Build the bundle first (on Windows, in the repository):
;   py -3.11 -m venv .venv && .venv\Scripts\pip install -e ".[packaging]"
;   .venv\Scripts\python packaging\make_icons.py resources\icons\twin.svg build\icons
;   .venv\Scripts\pyinstaller --noconfirm --distpath dist --workpath build\pyinstaller packaging\twin.spec
; then compile this script (the version must match pyproject.toml):
;   iscc /DAppVersion=0.1.0 packaging\windows\twin.iss
; which writes dist\twin-0.1.0-windows-x64-setup.exe.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z packaging\windows\twin.iss
#endif

[Setup]
AppId={{8F0E3A52-6C1D-4B7E-9A43-2D5C7B1E6F90}
AppName=twin
AppVersion={#AppVersion}
AppPublisher=twin
AppComments=Digital twin of an AI factory, simulated and shown live in 3D
DefaultDirName={autopf}\twin
DefaultGroupName=twin
DisableProgramGroupPage=yes
; Installs for the current user without administrator rights unless the user asks for all
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; relative to this script: the repository's dist\ and build\icons\
SourceDir=..\..
OutputDir=dist
OutputBaseFilename=twin-{#AppVersion}-windows-x64-setup
SetupIconFile=build\icons\twin.ico
UninstallDisplayIcon={app}\twin-gui.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesEnvironment=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add twin to PATH (for twin run, check, report in a terminal)"; Flags: unchecked

[Files]
Source: "dist\twin\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\twin"; Filename: "{app}\twin-gui.exe"; Comment: "Digital twin of an AI factory"
Name: "{autoprograms}\twin Trade-Show Kiosk"; Filename: "{app}\twin-gui.exe"; Parameters: "kiosk"; Comment: "Unattended full-screen tour; Ctrl+Shift+Q leaves"
Name: "{autodesktop}\twin"; Filename: "{app}\twin-gui.exe"; Tasks: desktopicon

[Registry]
; PATH of the user or of the machine, following the install mode
Root: HKA; Subkey: "{code:EnvironmentKey}"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\twin-gui.exe"; Description: "{cm:LaunchProgram,twin}"; Flags: nowait postinstall skipifsilent

[Code]
function EnvironmentKey(Param: String): String;
begin
  if IsAdminInstallMode then
    Result := 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment'
  else
    Result := 'Environment';
end;

function NeedsAddPath(Folder: String): Boolean;
var
  Paths: String;
  RootKey: Integer;
begin
  if IsAdminInstallMode then RootKey := HKEY_LOCAL_MACHINE else RootKey := HKEY_CURRENT_USER;
  if not RegQueryStringValue(RootKey, EnvironmentKey(''), 'Path', Paths) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Folder) + ';', ';' + Uppercase(Paths) + ';') = 0;
end;
