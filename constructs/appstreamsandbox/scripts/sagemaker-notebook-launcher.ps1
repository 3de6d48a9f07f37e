# securestacks AppStream sandbox: launcher.
#
# Bake this file into the AppStream image (for example C:\AppStream\sagemaker-notebook-launcher.ps1)
# and publish it as the image's application:
#   C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe
#   -NoProfile -ExecutionPolicy Bypass -File C:\AppStream\sagemaker-notebook-launcher.ps1
#
# It holds nothing specific to a deployment: the scripts bucket is found through the SSM
# parameter /securestacks/appstream-sandbox/<AppStream stack name>/scripts-bucket, read with the
# fleet role (profile appstream_machine_role). The session script it runs is fetched from S3 at
# every launch, so changing it needs a deploy, not a new image.

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Get-SandboxRegion {
    if ($env:AWS_Region) { return $env:AWS_Region }
    # arn:<partition>:appstream:<region>:<account>:image/<name>
    $parts = "$env:AppStream_Image_Arn".Split(':')
    if ($parts.Length -ge 4 -and $parts[3]) { return $parts[3] }
    throw 'Cannot tell the AWS Region: neither AWS_Region nor AppStream_Image_Arn is set.'
}

try {
    $region = Get-SandboxRegion
    $stack = $env:AppStream_Stack_Name
    if (-not $stack) { throw 'AppStream_Stack_Name is not set: run this from an AppStream session.' }
    $parameter = "/securestacks/appstream-sandbox/$stack/scripts-bucket"

    $bucket = & aws ssm get-parameter --name $parameter --query 'Parameter.Value' --output text `
        --region $region --profile appstream_machine_role
    if ($LASTEXITCODE -ne 0 -or -not $bucket) { throw "Cannot read the SSM parameter $parameter." }
    $bucket = $bucket.Trim()

    $local = Join-Path $env:TEMP 'sagemaker-notebook.ps1'
    & aws s3 cp "s3://$bucket/appstream-scripts/sagemaker-notebook.ps1" $local `
        --region $region --profile appstream_machine_role --only-show-errors
    if ($LASTEXITCODE -ne 0) { throw "Cannot download the session script from bucket $bucket." }

    & powershell.exe -NoProfile -ExecutionPolicy Bypass -File $local
    exit $LASTEXITCODE
}
catch {
    Write-Host "The notebook could not be started: $($_.Exception.Message)"
    Write-Host 'Close this session and try again; if it keeps failing, contact your administrator.'
    Read-Host 'Press Enter to close'
    exit 1
}
