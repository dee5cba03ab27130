; Inno Setup 6 script: Zondarr's per-user Windows installer (no administrator rights needed).
;
; Build it with `python packaging\build.py exe` (builds the bundle, then runs ISCC with the defines below).
; By hand, after `python packaging\build.py bundle`:
;   iscc /DAppVersion=X.Y.Z /DSourceDir=dist\zondarr /DIconFile=build\icons\zondarr.ico /Odist packaging\windows\zondarr.iss
; AppVersion comes from app\__init__.py (the single version source): build.py passes it, this file never
; hard-codes it.

#ifndef AppVersion
  #error AppVersion is not defined: build with `python packaging\build.py exe` (or pass /DAppVersion=X.Y.Z)
#endif
#ifndef SourceDir
  #define SourceDir AddBackslash(SourcePath) + "..\..\dist\zondarr"
#endif
#ifndef IconFile
  #define IconFile AddBackslash(SourcePath) + "..\..\build\icons\zondarr.ico"
#endif

[Setup]
; A fixed AppId keeps upgrades and the uninstaller tied to one entry; never change it.
AppId={{6A3C2F0E-7B1D-4E5A-9C8F-2D4B6E8A0C13}
AppName=Zondarr
AppVersion={#AppVersion}
AppVerName=Zondarr {#AppVersion}
AppPublisher=Zondarr
VersionInfoVersion={#AppVersion}
; Per user: %LOCALAPPDATA%\Programs\Zondarr, no UAC prompt.
PrivilegesRequired=lowest
DefaultDirName={localappdata}\Programs\Zondarr
DefaultGroupName=Zondarr
DisableProgramGroupPage=yes
UninstallDisplayName=Zondarr
UninstallDisplayIcon={app}\zondarr.exe
SetupIconFile={#IconFile}
OutputBaseFilename=Zondarr-{#AppVersion}-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole PyInstaller one-folder bundle (zondarr.exe + _internal\ with resources\ inside).
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Zondarr"; Filename: "{app}\zondarr.exe"; WorkingDir: "{app}"
Name: "{autodesktop}\Zondarr"; Filename: "{app}\zondarr.exe"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\zondarr.exe"; Description: "{cm:LaunchProgram,Zondarr}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only what the installer put there: the cache and settings in %LOCALAPPDATA%\Zondarr stay (primary data).
Type: filesandordirs; Name: "{app}"
