#!/usr/bin/env bash
# The README's walk-through, runnable end to end: the same commands, in the
# same order (test/e2e/walkthrough.spec.ts runs it, and checks that the README
# still shows these commands). It starts the service in the background, runs
# two users' MFA lifecycle and the support staff's RPCs with grpcurl, and
# stops the service.
#
#   scripts/walkthrough.sh    # under a minute: it waits for one 30-second TOTP period at most
#
# Stores: those in the environment when REDIS_URL is set (the test's own);
# else those of `npm run stores` when .stores/env (or $STORES_DIR/env) exists; else the embedded
# in-memory stores. It says which. Each run has users of its own (alice-<hex>,
# bob-<hex>), so it runs again on the same stores. GRPC_PORT picks the
# service's port (50051); when it is taken, the run stops with the service's
# one line. Lines marked "script only" are not in the README.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

for tool in jq openssl node npm; do
  command -v "$tool" >/dev/null || { echo "walkthrough: $tool is not on PATH (README, \"Prerequisites\")" >&2; exit 1; }
done
if [[ -n "${REDIS_URL:-}" ]]; then
  echo "walkthrough: on the stores in the environment (REDIS_URL, MONGO_URL)"
elif [[ -f "${STORES_DIR:-.stores}/env" ]]; then  # STORES_DIR: where 'npm run stores' keeps them, as local-stores.sh reads it
  # shellcheck source=/dev/null
  source "${STORES_DIR:-.stores}/env"
  echo "walkthrough: on the stores of 'npm run stores' (${STORES_DIR:-.stores}/env)"
else
  echo "walkthrough: on the embedded in-memory stores (no ${STORES_DIR:-.stores}/env, no REDIS_URL); 'npm run stores' in another terminal gives real ones"
fi

# ---- The README's commands from here on ----

step "Prerequisites: grpcurl on PATH (the pinned build in .tools/bin when there is none)"
command -v grpcurl >/dev/null || export PATH="$(dirname "$(scripts/ensure-tool.sh grpcurl)"):$PATH"

step "Start the service with two callers: the login service, and the support console (an admin)"
export GRPC_PORT=${GRPC_PORT:-50051}
LOGIN_TOKEN=$(openssl rand -hex 24)
SUPPORT_TOKEN=$(openssl rand -hex 24)
export MFA_AUTH_TOKENS="login-service:$LOGIN_TOKEN,support-console:$SUPPORT_TOKEN" MFA_ADMIN_CALLERS=support-console
mkdir -p .tmp
npm start > .tmp/mfa-$GRPC_PORT.log 2>&1 &
MFA_PID=$!
trap 'kill $MFA_PID 2>/dev/null || true' EXIT  # script only: stop the service however the script ends
until grep -qs 'mfa-service listening' .tmp/mfa-$GRPC_PORT.log; do kill -0 $MFA_PID 2>/dev/null || break; sleep 0.5; done
kill -0 $MFA_PID 2>/dev/null || { grep 'mfa-service:' .tmp/mfa-$GRPC_PORT.log >&2; false; }
grpcurl -plaintext localhost:$GRPC_PORT list
grpcurl -plaintext localhost:$GRPC_PORT describe mfa.v1.MfaService.VerifyTotp
grpcurl -plaintext -d '{"service":"mfa.v1.MfaService"}' localhost:$GRPC_PORT grpc.health.v1.Health/Check

step "1. Enroll alice (a user id of this run's own): begin, or cancel; begin again, scan the QR code, and confirm with the first code"
ALICE=alice-$(openssl rand -hex 4)
BEGIN=$(grpcurl -plaintext -H "authorization: Bearer $LOGIN_TOKEN" -d "{\"user_id\":\"$ALICE\",\"account_name\":\"alice@example.com\"}" \
  localhost:$GRPC_PORT mfa.v1.MfaService/BeginTotpEnrollment)
grpcurl -plaintext -H "authorization: Bearer $LOGIN_TOKEN" -d "{\"user_id\":\"$ALICE\",\"enrollment_id\":\"$(echo "$BEGIN" | jq -r .enrollmentId)\"}" \
  localhost:$GRPC_PORT mfa.v1.MfaService/CancelTotpEnrollment
BEGIN=$(grpcurl -plaintext -H "authorization: Bearer $LOGIN_TOKEN" -d "{\"user_id\":\"$ALICE\",\"account_name\":\"alice@example.com\"}" \
  localhost:$GRPC_PORT mfa.v1.MfaService/BeginTotpEnrollment)
echo "$BEGIN" | jq -r .qrCodeText
echo "$BEGIN" | jq -r .otpauthUri
SECRET=$(echo "$BEGIN" | jq -r .secret)
ENROLLMENT_ID=$(echo "$BEGIN" | jq -r .enrollmentId)
CODE=$(node scripts/totp-code.mjs "$SECRET")
CONFIRM=$(grpcurl -plaintext -H "authorization: Bearer $LOGIN_TOKEN" -d "{\"user_id\":\"$ALICE\",\"enrollment_id\":\"$ENROLLMENT_ID\",\"code\":\"$CODE\"}" \
  localhost:$GRPC_PORT mfa.v1.MfaService/ConfirmTotpEnrollment)
echo "$CONFIRM" | jq .

step "2. Log in: a code from the app (the helper prints the next period's), remembering the device; or a recovery code"
CODE=$(node scripts/totp-code.mjs "$SECRET")
VERIFY=$(grpcurl -plaintext -H "authorization: Bearer $LOGIN_TOKEN" -d "{\"user_id\":\"$ALICE\",\"code\":\"$CODE\",\"remember_device\":true,\"device_label\":\"Firefox on Linux\"}" \
  localhost:$GRPC_PORT mfa.v1.MfaService/VerifyTotp)
echo "$VERIFY" | jq .
DEVICE_TOKEN=$(echo "$VERIFY" | jq -r .deviceToken)
RECOVERY_CODE=$(echo "$CONFIRM" | jq -r '.recoveryCodes[0]')
grpcurl -plaintext -H "authorization: Bearer $LOGIN_TOKEN" -d "{\"user_id\":\"$ALICE\",\"recovery_code\":\"$RECOVERY_CODE\"}" \
  localhost:$GRPC_PORT mfa.v1.MfaService/VerifyRecoveryCode

step "3. The next login skips the code on a remembered device"
grpcurl -plaintext -H "authorization: Bearer $LOGIN_TOKEN" -d "{\"user_id\":\"$ALICE\",\"device_token\":\"$DEVICE_TOKEN\"}" \
  localhost:$GRPC_PORT mfa.v1.MfaService/CheckRememberedDevice
DEVICES=$(grpcurl -plaintext -H "authorization: Bearer $LOGIN_TOKEN" -d "{\"user_id\":\"$ALICE\"}" localhost:$GRPC_PORT mfa.v1.MfaService/ListRememberedDevices)
echo "$DEVICES" | jq .
DEVICE_ID=$(echo "$DEVICES" | jq -r '.devices[0].deviceId')
grpcurl -plaintext -H "authorization: Bearer $LOGIN_TOKEN" -d "{\"user_id\":\"$ALICE\",\"device_id\":\"$DEVICE_ID\"}" \
  localhost:$GRPC_PORT mfa.v1.MfaService/ForgetRememberedDevice
grpcurl -plaintext -emit-defaults -H "authorization: Bearer $LOGIN_TOKEN" -d "{\"user_id\":\"$ALICE\",\"device_token\":\"$DEVICE_TOKEN\"}" \
  localhost:$GRPC_PORT mfa.v1.MfaService/CheckRememberedDevice
grpcurl -plaintext -emit-defaults -H "authorization: Bearer $LOGIN_TOKEN" -d "{\"user_id\":\"$ALICE\"}" localhost:$GRPC_PORT mfa.v1.MfaService/ListRememberedDevices

step "4. Account settings: status, new recovery codes (another code from the app: the next period's, or the helper waits)"
grpcurl -plaintext -H "authorization: Bearer $LOGIN_TOKEN" -d "{\"user_id\":\"$ALICE\"}" localhost:$GRPC_PORT mfa.v1.MfaService/GetMfaStatus
CODE=$(node scripts/totp-code.mjs "$SECRET")
REGENERATED=$(grpcurl -plaintext -H "authorization: Bearer $LOGIN_TOKEN" -d "{\"user_id\":\"$ALICE\",\"code\":\"$CODE\"}" \
  localhost:$GRPC_PORT mfa.v1.MfaService/RegenerateRecoveryCodes)
echo "$REGENERATED" | jq .

step "5. Sessions: a session issued now is valid until the user is logged out everywhere"
SESSION_ISSUED_AT=$(node -p 'new Date().toISOString()')
grpcurl -plaintext -emit-defaults -H "authorization: Bearer $LOGIN_TOKEN" -d "{\"user_id\":\"$ALICE\",\"session_issued_at\":\"$SESSION_ISSUED_AT\"}" \
  localhost:$GRPC_PORT mfa.v1.MfaService/CheckSession
grpcurl -plaintext -H "authorization: Bearer $LOGIN_TOKEN" -d "{\"user_id\":\"$ALICE\"}" localhost:$GRPC_PORT mfa.v1.MfaService/RevokeSessions
grpcurl -plaintext -emit-defaults -H "authorization: Bearer $LOGIN_TOKEN" -d "{\"user_id\":\"$ALICE\",\"session_issued_at\":\"$SESSION_ISSUED_AT\"}" \
  localhost:$GRPC_PORT mfa.v1.MfaService/CheckSession

step "6. Turn MFA off with one of the new recovery codes"
RECOVERY_CODE=$(echo "$REGENERATED" | jq -r '.recoveryCodes[0]')
grpcurl -plaintext -H "authorization: Bearer $LOGIN_TOKEN" -d "{\"user_id\":\"$ALICE\",\"code\":\"$RECOVERY_CODE\"}" \
  localhost:$GRPC_PORT mfa.v1.MfaService/DisableMfa
grpcurl -plaintext -emit-defaults -H "authorization: Bearer $LOGIN_TOKEN" -d "{\"user_id\":\"$ALICE\"}" localhost:$GRPC_PORT mfa.v1.MfaService/GetMfaStatus

step "7. Support staff: bob lost his phone and his recovery codes"
BOB=bob-$(openssl rand -hex 4)
BEGIN=$(grpcurl -plaintext -H "authorization: Bearer $LOGIN_TOKEN" -d "{\"user_id\":\"$BOB\"}" localhost:$GRPC_PORT mfa.v1.MfaService/BeginTotpEnrollment)
CODE=$(node scripts/totp-code.mjs "$(echo "$BEGIN" | jq -r .secret)")
grpcurl -plaintext -H "authorization: Bearer $LOGIN_TOKEN" -d "{\"user_id\":\"$BOB\",\"enrollment_id\":\"$(echo "$BEGIN" | jq -r .enrollmentId)\",\"code\":\"$CODE\"}" \
  localhost:$GRPC_PORT mfa.v1.MfaService/ConfirmTotpEnrollment > /dev/null
grpcurl -plaintext -H "authorization: Bearer $SUPPORT_TOKEN" -d "{\"user_id\":\"$BOB\",\"reason\":\"ticket 4711: lost phone\"}" localhost:$GRPC_PORT mfa.v1.MfaService/ResetMfa
grpcurl -plaintext -H "authorization: Bearer $SUPPORT_TOKEN" -d "{\"user_id\":\"$ALICE\",\"page_size\":20}" localhost:$GRPC_PORT mfa.v1.MfaService/ListAuditEvents

step "Stop the service"
kill $MFA_PID
