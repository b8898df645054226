; Inno Setup script: Windows installer for Stride Clinic (Inno Setup 6).
;
; Build the bundle first on a Windows PC (see installer/README.md), then from the repository root:
;   iscc /DAppVersion=0.1.0 installer\stride-clinic.iss
; Output: dist\stride-clinic-<version>-windows-x64-setup.exe
;
; What it does
; - Installs the one-folder bundle (dist\stride-clinic) for the current user by default (no
;   administrator rights needed; an administrator may choose "all users").
; - Start-menu entries: Stride Clinic, Stride Clinic (demo clinic), uninstall. Desktop icon optional.
; - The uninstaller removes the program only. Patient data (database, videos, backups, settings) in
;   %APPDATA%\StrideClinic is KEPT unless the clinician ticks "Also delete all patient data" in the
;   uninstaller's dialog (unticked by default). Silent uninstalls never delete data.

#define AppName "Stride Clinic"
#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppExe "stride-clinic.exe"
#define AppPublisher "Stride Clinic developers"
; relative to this script's folder (installer\)
#define BundleDir "..\dist\stride-clinic"
#define DataFolderName "StrideClinic"

[Setup]
; Never change AppId: Windows finds earlier installs (upgrade, uninstall) by it.
AppId={{3B8F6E2A-5C41-4D7B-9E0A-7A2C1D6F4B19}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppPublisher}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; PySide6 6.10 / Qt 6.10 need Windows 10 1809 or later
MinVersion=10.0.17763
OutputDir=..\dist
OutputBaseFilename=stride-clinic-{#AppVersion}-windows-x64-setup
SetupIconFile=..\resources\icons\stride-clinic.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; close a running Stride Clinic (Restart Manager) before its files are replaced or removed
CloseApplications=yes
; the licences of what the bundle contains (FFmpeg with x264/x265 is GPL-2.0-or-later), shown
; before installing and kept beside the program
LicenseFile=..\resources\THIRD_PARTY_NOTICES.md

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; an upgrade replaces the whole program folder, so no module of an old version lingers
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "..\resources\THIRD_PARTY_NOTICES.md"; DestDir: "{app}"; DestName: "THIRD_PARTY_NOTICES.txt"; Flags: ignoreversion

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Running-gait retraining"
Name: "{group}\{#AppName} (demo clinic)"; Filename: "{app}\{#AppExe}"; Parameters: "--demo"; Comment: "Fictional patients; your real data is untouched"
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; only the program folder; the data folder is handled in [Code] below
Type: filesandordirs; Name: "{app}\_internal"

[Code]
var
  DeletePatientData: Boolean;

function PatientDataDir(): String;
begin
  { Same folder as platformdirs.user_data_dir("StrideClinic", roaming=True) in app/paths.py }
  Result := ExpandConstant('{userappdata}\{#DataFolderName}');
end;

{ Ask, with an unticked box, whether the patient data should go too. Returns False to cancel. }
function AskAboutPatientData(): Boolean;
var
  Form: TSetupForm;
  Info: TNewStaticText;
  Box: TNewCheckBox;
  OkButton, CancelButton: TNewButton;
begin
#if Ver >= EncodeVer(6, 6, 0)
  Form := CreateCustomForm(460, 200, False, False);
#else
  Form := CreateCustomForm();
  Form.ClientWidth := ScaleX(460);
  Form.ClientHeight := ScaleY(200);
#endif
  try
    Form.Caption := 'Uninstall {#AppName}';

    Info := TNewStaticText.Create(Form);
    Info.Parent := Form;
    Info.Left := ScaleX(12);
    Info.Top := ScaleY(12);
    Info.Width := Form.ClientWidth - ScaleX(24);
    Info.AutoSize := False;
    Info.Height := ScaleY(80);
    Info.WordWrap := True;
    Info.Caption := '{#AppName} will be removed from this computer.' + #13#10 + #13#10 +
      'Your patient records, videos and backups in ' + PatientDataDir() +
      ' are kept, so a new installation finds them again.';

    Box := TNewCheckBox.Create(Form);
    Box.Parent := Form;
    Box.Left := ScaleX(12);
    Box.Top := Info.Top + Info.Height + ScaleY(8);
    Box.Width := Form.ClientWidth - ScaleX(24);
    Box.Height := ScaleY(36);
    Box.Caption := 'Also delete ALL patient data in that folder (database, videos, backups). ' +
      'This cannot be undone.';
    Box.Checked := False;

    OkButton := TNewButton.Create(Form);
    OkButton.Parent := Form;
    OkButton.Width := ScaleX(90);
    OkButton.Height := ScaleY(25);
    OkButton.Left := Form.ClientWidth - ScaleX(12 + 90 + 8 + 90);
    OkButton.Top := Form.ClientHeight - ScaleY(25 + 12);
    OkButton.Caption := 'Uninstall';
    OkButton.ModalResult := mrOk;
    OkButton.Default := True;

    CancelButton := TNewButton.Create(Form);
    CancelButton.Parent := Form;
    CancelButton.Width := ScaleX(90);
    CancelButton.Height := ScaleY(25);
    CancelButton.Left := Form.ClientWidth - ScaleX(12 + 90);
    CancelButton.Top := OkButton.Top;
    CancelButton.Caption := 'Cancel';
    CancelButton.ModalResult := mrCancel;
    CancelButton.Cancel := True;

    Form.ActiveControl := OkButton;
    Result := Form.ShowModal() = mrOk;
    DeletePatientData := Result and Box.Checked;
  finally
    Form.Free();
  end;
end;

function InitializeUninstall(): Boolean;
begin
  DeletePatientData := False;
  Result := True;
  { Silent uninstalls (IT roll-outs, upgrades) never touch patient data. }
  if (not UninstallSilent()) and DirExists(PatientDataDir()) then
    Result := AskAboutPatientData();
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if (CurUninstallStep = usPostUninstall) and DeletePatientData then
  begin
    { Second chance: this is health data. Default button is No. }
    if MsgBox('Delete all patient data in ' + PatientDataDir() + ' now?', mbConfirmation,
              MB_YESNO or MB_DEFBUTTON2) = IDYES then
    begin
      if not DelTree(PatientDataDir(), True, True, True) then
        MsgBox('Some patient data could not be deleted. Remove the folder ' + PatientDataDir() +
               ' by hand.', mbError, MB_OK);
    end;
  end;
end;
