-- Argo CD health check for modelops.io/ModelDeployment.
--
-- Install it in argocd-cm under the key
--   resource.customizations.health.modelops.io_ModelDeployment
-- (see the chart README, "Argo CD"). Argo CD runs this with the live object
-- in the global `obj` and expects a table {status = ..., message = ...}.
--
--   Healthy      the Ready condition is True and no rollout is under way
--   Progressing  the operator has not caught up with the spec yet, or a
--                canary is being analysed / promoted
--   Degraded     the last rollout was rolled back, the deployment failed,
--                or the Degraded condition is True
--
-- A rollback is Degraded on purpose: Git still names the rejected version
-- (the operator keeps the stable one), so the app is not what Git says until
-- someone fixes the spec or promotes.

local hs = {status = "Progressing", message = "Waiting for the modelops operator"}

local function condition(status, ctype)
  if status == nil or status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == ctype then
      return c
    end
  end
  return nil
end

local function text(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if c ~= nil and c.reason ~= nil and c.reason ~= "" then
    return c.reason
  end
  return fallback
end

local status = obj.status
if status == nil then
  return hs
end

-- Status written for an older spec says nothing about the current one.
local generation = obj.metadata and obj.metadata.generation or nil
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local phase = status.phase
if phase == "Failed" or phase == "RolledBack" then
  hs.status = "Degraded"
  hs.message = phase .. ": " .. text(condition(status, "Degraded"), status.message or "see kubectl describe")
  return hs
end

local degraded = condition(status, "Degraded")
if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = text(degraded, "Degraded")
  return hs
end

if phase == "Progressing" or phase == "Promoting" then
  local message = phase
  if status.canary ~= nil and status.canary.version ~= nil then
    message = message .. ": canary " .. tostring(status.canary.version)
    if status.canary.weight ~= nil then
      message = message .. " at " .. tostring(status.canary.weight) .. "%"
    end
  end
  hs.message = message
  return hs
end

local ready = condition(status, "Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  local stable = status.stable and status.stable.version or nil
  if stable ~= nil then
    hs.message = "Serving version " .. tostring(stable)
  else
    hs.message = text(ready, "Ready")
  end
  return hs
end

hs.message = text(ready, "Waiting for the model pods to become available")
return hs
