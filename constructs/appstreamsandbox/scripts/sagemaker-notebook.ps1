# securestacks AppStream sandbox: session script.
#
# Fetched from the scripts bucket by the launcher at every launch. It writes session.json
# ({user, sessionId, stackName, fleetName, authType, written}) into a folder named after the
# AppStream stack in the user's home folder, which AppStream syncs to
# user/<type>/<sha256 of the user>/<stack>/session.json in the home-folder bucket. Every sandbox
# of the account and region shares that bucket; the stack's folder keeps their notifications
# and answers apart.
# The session validator (a Lambda function outside the user's reach) checks the claims against
# AppStream itself and answers in session_url.txt next to it: a presigned notebook URL, valid
# for 5 minutes, or a denial message. Nothing here is trusted by the validator: the user can
# edit this file's output, and the validator is built to refuse exactly that.

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$homeFolder = Join-Path $env:USERPROFILE 'My Files\Home Folder'
$sessionFolder = Join-Path $homeFolder $env:AppStream_Stack_Name
$request = Join-Path $sessionFolder 'session.json'
$reply = Join-Path $sessionFolder 'session_url.txt'

Write-Host "Welcome, $env:AppStream_UserName."

# On a user's first session the home folder takes a moment to appear.
$deadline = (Get-Date).AddMinutes(2)
while (-not (Test-Path $homeFolder)) {
    if ((Get-Date) -gt $deadline) {
        Write-Host 'Your home folder is not available. Close this session and sign in again.'
        Read-Host 'Press Enter to close'
        exit 1
    }
    Write-Host 'Setting up your home folder...'
    Start-Sleep -Seconds 5
}

New-Item -ItemType Directory -Force -Path $sessionFolder | Out-Null

# An answer left from an earlier session must not be taken for this session's answer.
Remove-Item -Force -ErrorAction SilentlyContinue $reply

$session = [ordered]@{
    user      = $env:AppStream_UserName
    sessionId = $env:AppStream_Session_ID
    stackName = $env:AppStream_Stack_Name
    fleetName = $env:AppStream_Resource_Name
    authType  = $env:AppStream_User_Access_Mode
    written   = (Get-Date).ToUniversalTime().ToString('o')
}
# UTF-8 without a byte-order mark: Windows PowerShell's Out-File would write UTF-16.
$json = $session | ConvertTo-Json -Compress
[System.IO.File]::WriteAllText($request, $json, (New-Object System.Text.UTF8Encoding($false)))

Write-Host 'Opening your SageMaker notebook, please wait...'
# The presigned URL expires 5 minutes after it is made; stop waiting a little before that.
$deadline = (Get-Date).AddMinutes(4)
while ((Get-Date) -lt $deadline) {
    if (Test-Path $reply) {
        $answer = (Get-Content -Raw -Path $reply).Trim()
        Remove-Item -Force -ErrorAction SilentlyContinue $reply
        if ($answer -match '^https://[^\s"''<>]+$') {
            Start-Process $answer
            exit 0
        }
        # Anything else is the validator's denial message, shown as is.
        Write-Host $answer
        Read-Host 'Press Enter to close'
        exit 1
    }
    Start-Sleep -Seconds 2
}
Write-Host 'No answer came back in time. Close this session and try again.'
Read-Host 'Press Enter to close'
exit 1
