-- Argo CD health check for the seven azbackup.dev kinds (BackupVault, BackupPolicy, ProtectedVM,
-- VMBackupSelector, OnDemandBackup, VMRestore, RestoreDrill). Install it with argocd-cm-patch.yaml beside
-- this file.
--
-- It reads the status contract of the operator (README "Status contract"): status.observedGeneration
-- and the kstatus conditions Ready / Reconciling / Stalled, plus status.phase of an OnDemandBackup or a
-- VMRestore, and the Degraded condition of a RestoreDrill (a missed RPO or RTO objective).
-- Argo CD runs it in gopher-lua (Lua 5.1) with the object as the global `obj`, and reads back
-- hs.status (Healthy, Progressing, Degraded, Suspended) and hs.message.

local hs = {}

local function condition(status, type_)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == type_ then
      return c
    end
  end
  return nil
end

-- "Reason: message", or whichever of the two is there.
local function describe(c)
  if c == nil then
    return ""
  end
  local reason = c.reason or ""
  local message = c.message or ""
  if reason ~= "" and message ~= "" then
    return reason .. ": " .. message
  end
  return reason .. message
end

local status = obj.status
local generation = (obj.metadata or {}).generation

-- Nothing reported yet: the operator has not seen the object (or is not running).
if status == nil or (status.observedGeneration == nil and status.conditions == nil and status.phase == nil) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end

-- The spec changed since the operator last acted: whatever the conditions say is about an older spec.
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local ready = condition(status, "Ready")
local stalled = condition(status, "Stalled")
local reconciling = condition(status, "Reconciling")

-- An OnDemandBackup or a VMRestore is a one-shot job: its phase is final once Succeeded or Failed.
local job = ({OnDemandBackup = "Backup", VMRestore = "Restore"})[obj.kind]
if job ~= nil then
  if status.phase == "Failed" then
    hs.status = "Degraded"
    local detail = status.errorCode or ""
    if status.errorMessage ~= nil and status.errorMessage ~= "" then
      detail = (detail ~= "" and (detail .. ": ") or "") .. status.errorMessage
    end
    if detail == "" then
      detail = describe(ready)
    end
    hs.message = job .. " failed" .. (detail ~= "" and (": " .. detail) or "")
    return hs
  end
  if status.phase == "Succeeded" then
    hs.status = "Healthy"
    hs.message = job .. " succeeded" ..
      ((status.recoveryPoint ~= nil and status.recoveryPoint ~= "") and (": recovery point " .. status.recoveryPoint) or "")
    return hs
  end
end

-- A kind's abnormal-true condition (a RestoreDrill that missed its RPO or RTO objective).
local degraded = condition(status, "Degraded")
if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(degraded)
  return hs
end

-- Needs a human (bad spec, owned elsewhere, no permission, drift in observe mode).
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(ready)
  if hs.message == "" then
    hs.message = describe(stalled)
  end
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end

-- reconcile-policy skip: the operator neither reads nor writes; Argo CD shows it as paused.
if ready ~= nil and ready.status == "Unknown" and ready.reason == "ReconcilePaused" then
  hs.status = "Suspended"
  hs.message = describe(ready)
  return hs
end

-- Still working (creating, waiting on an Azure operation, retrying), or nothing more specific known.
hs.status = "Progressing"
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = describe(reconciling)
else
  hs.message = describe(ready)
end
if hs.message == "" then
  hs.message = "Waiting for the Ready condition"
end
return hs
