<#
.SYNOPSIS
    Install (or upgrade) ldap2scim as a Windows service.

.DESCRIPTION
    Run as an administrator, from the directory holding ldap2scim.exe and
    ldap2scim-service.exe (or give -Source).  It:
      1. copies both executables to -InstallDir (default
         C:\Program Files\ldap2scim), stopping the service first when it
         is already installed (an upgrade: the state file is kept);
      2. creates -DataDir (default %ProgramData%\ldap2scim) for the
         configuration, the state and the log;
      3. installs the service (ldap2scim-service.exe install) to run as
         -Account: by default the virtual account NT SERVICE\<Name>, which
         has no password to store; a group-managed service account
         (DOMAIN\name$) takes none either;
      4. gives that account read access to the data directory and write
         access to what the agent writes (state, lock, log), and keeps
         everyone else but SYSTEM and Administrators out of it, since the
         secret files live there;
      5. starts the service when ldap2scim.yaml is in place, else says what
         to do next.

.EXAMPLE
    .\install-service.ps1
.EXAMPLE
    .\install-service.ps1 -Account 'CORP\svc-ldap2scim$' -Name ldap2scim-hr
#>
[CmdletBinding()]
param(
    [string]$Source = $PSScriptRoot,
    [string]$InstallDir = (Join-Path $env:ProgramFiles 'ldap2scim'),
    [string]$DataDir = (Join-Path $env:ProgramData 'ldap2scim'),
    [string]$Name = 'ldap2scim',
    [string]$Account = '',
    [int]$StopTimeout = 30
)

$ErrorActionPreference = 'Stop'

function Fail([string]$Message) {
    Write-Error "install-service: $Message"
    exit 1
}

$principal = New-Object Security.Principal.WindowsPrincipal(
    [Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Fail 'run this from an elevated PowerShell (as an administrator)'
}
if ($Account -eq '') { $Account = "NT SERVICE\$Name" }

foreach ($exe in 'ldap2scim.exe', 'ldap2scim-service.exe') {
    if (-not (Test-Path (Join-Path $Source $exe))) {
        Fail "'$exe' is not in '$Source' (give -Source DIR)"
    }
}

$wrapper = Join-Path $InstallDir 'ldap2scim-service.exe'
$agent = Join-Path $InstallDir 'ldap2scim.exe'
$config = Join-Path $DataDir 'ldap2scim.yaml'
$log = Join-Path $DataDir 'ldap2scim.log'

# 1. an upgrade stops the running service before its files are replaced
$existing = Get-Service -Name $Name -ErrorAction SilentlyContinue
if ($existing -and $existing.Status -ne 'Stopped') {
    Write-Host "stopping the service '$Name' for the upgrade"
    & $wrapper stop --name $Name
    if ($LASTEXITCODE -ne 0) { Fail "cannot stop the service '$Name'" }
}
New-Item -ItemType Directory -Force -Path $InstallDir | Out-Null
Copy-Item -Force (Join-Path $Source 'ldap2scim.exe') $agent
Copy-Item -Force (Join-Path $Source 'ldap2scim-service.exe') $wrapper

# 2. the data directory
New-Item -ItemType Directory -Force -Path $DataDir | Out-Null

# 3. the service (install refuses a name already taken: keep the old one)
if (-not $existing) {
    & $wrapper install --name $Name --config $config --agent $agent `
        --account $Account --log $log --stop-timeout $StopTimeout
    if ($LASTEXITCODE -ne 0) { Fail "ldap2scim-service.exe install failed ($LASTEXITCODE)" }
}

# 4. the data directory's access list: SYSTEM and Administrators full
# control, the service account modify (it writes the state, the lock and the
# log; it reads the configuration and the secret files), nobody else.
& icacls.exe $DataDir /inheritance:r `
    /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F' "${Account}:(OI)(CI)M" | Out-Null
if ($LASTEXITCODE -ne 0) { Fail "icacls could not set the access list of '$DataDir'" }

# 5. start, once there is a configuration
if (Test-Path $config) {
    & $wrapper start --name $Name
    if ($LASTEXITCODE -ne 0) { Fail "the service '$Name' did not start; see '$log' and the event log" }
    & $wrapper status --name $Name
} else {
    Write-Host "installed. Next: write '$config' (see ldap2scim.yaml.example),"
    Write-Host "check it with:  & '$agent' -c '$config' check"
    Write-Host "then start it:  & '$wrapper' start --name $Name"
}
