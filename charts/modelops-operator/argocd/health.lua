-- Argo CD health check for modelops.io/ModelDeployment.
--
-- Install it in argocd-cm under the key
--   resource.customizations.health.modelops.io_ModelDeployment
-- (see the chart README, "Argo CD"). Argo CD runs this with the live object
-- in the global `obj` and expects a table {status = ..., message = ...}.
--
-- It reads the conditions the way `modelops rollout status --wait` and
-- `kubectl wait --for=condition=...` do (docs/operator.md, "Conditions"):
--
--   Progressing  no status yet, or status / conditions of an older generation;
--                a canary being analysed or promoted (Progressing=True);
--                pods still coming up
--   Degraded     Degraded=True: a rollback (reason RolledBack: the spec names a
--                rejected version), a missed progress deadline, lost pods, a
--                channel that does not resolve; also phase Failed / RolledBack
--   Healthy      Ready=True (the spec's release serves), or scaled to zero
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

-- Status written for an older spec says nothing about the current one; nor
-- does a condition that carries an older observedGeneration.
local generation = obj.metadata and obj.metadata.generation or nil
local function stale(observed)
  return generation ~= nil and observed ~= nil and observed < generation
end
if generation ~= nil and (status.observedGeneration == nil or stale(status.observedGeneration)) then
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end
for _, ctype in ipairs({"Ready", "Progressing", "Degraded"}) do
  local c = condition(status, ctype)
  if c ~= nil and stale(c.observedGeneration) then
    hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
    return hs
  end
end

local phase = status.phase
local degraded = condition(status, "Degraded")
if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  local reason = degraded.reason or phase or "Degraded"
  hs.message = reason .. ": " .. text(degraded, status.message or "see kubectl describe")
  return hs
end

-- Statuses written before the Degraded condition told rollbacks apart.
if phase == "Failed" or phase == "RolledBack" then
  hs.status = "Degraded"
  hs.message = phase .. ": " .. (status.message or "see kubectl describe")
  return hs
end

local progressing = condition(status, "Progressing")
if (progressing ~= nil and progressing.status == "True") or phase == "Progressing" or phase == "Promoting" then
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
if ready ~= nil and ready.status == "False" and ready.reason == "ScaledToZero" then
  hs.status = "Healthy"
  hs.message = text(ready, "Scaled to zero")
  return hs
end
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
