import type { Clock, RandomBytes } from '../../domain/clock.js';
import { hashDeviceToken, mintDevice } from '../../domain/device-tokens.js';
import { ErrorReason, MfaError } from '../../domain/errors.js';
import type { DeviceRecord, FactorStore } from '../../stores/ports/index.js';
import type { SecurityEventFactory } from '../security-events/security-event-factory.js';

/** A device just remembered: the token goes to the caller once, the record to the store. */
export interface RememberedDevice {
  readonly record: DeviceRecord;
  readonly token: string;
  /** Devices to forget in the same write: expired ones, and the oldest beyond the limit. */
  readonly evictDeviceIds: string[];
}

/** A remembered device as the service hands it out: never its token's hash. */
export type DeviceView = Omit<DeviceRecord, 'tokenHash'>;

function toView({ deviceId, label, createdAt, lastUsedAt, expiresAt }: DeviceRecord): DeviceView {
  return { deviceId, label, createdAt, lastUsedAt, expiresAt };
}

export interface DeviceCheck {
  readonly remembered: boolean;
  readonly device: DeviceView | null;
}

// lastUsedAt is refreshed at most this often, so a busy device does not cost a write per check.
const TOUCH_INTERVAL_MS = 5 * 60 * 1000;

/** "Remember this device": minting tokens, checking, listing and forgetting devices. */
export class DeviceService {
  constructor(
    private readonly deps: {
      readonly factors: FactorStore;
      readonly events: SecurityEventFactory;
      readonly clock: Clock;
      readonly random: RandomBytes;
      readonly rememberDeviceMs: number;
      readonly maxDevices: number;
    },
  ) {}

  /** A new device record and its token; the caller stores the record with its proof. */
  remember(existing: readonly DeviceRecord[], label: string, now: Date): RememberedDevice {
    const minted = mintDevice(this.deps.random);
    const live = liveDevices(existing, now);
    const kept = new Set(live.slice(0, this.deps.maxDevices - 1).map((d) => d.deviceId));
    return {
      token: minted.token,
      evictDeviceIds: existing.filter((d) => !kept.has(d.deviceId)).map((d) => d.deviceId),
      record: {
        deviceId: minted.deviceId,
        tokenHash: minted.tokenHash,
        label,
        createdAt: now,
        lastUsedAt: now,
        expiresAt: new Date(now.getTime() + this.deps.rememberDeviceMs),
      },
    };
  }

  async check(userId: string, token: string): Promise<DeviceCheck> {
    const devices = await this.deps.factors.devices(userId);
    if (devices === null) return { remembered: false, device: null };
    const now = this.deps.clock.now();
    const tokenHash = hashDeviceToken(token);
    const device = devices.find((d) => d.tokenHash === tokenHash && d.expiresAt.getTime() > now.getTime());
    if (device === undefined) return { remembered: false, device: null };
    if (now.getTime() - device.lastUsedAt.getTime() >= TOUCH_INTERVAL_MS) {
      await this.deps.factors.touchDevice(userId, device.deviceId, now);
    }
    return { remembered: true, device: toView(device) };
  }

  /** The user's live devices, newest first. */
  async list(userId: string): Promise<DeviceView[]> {
    const record = await this.deps.factors.get(userId);
    return liveDevices(record?.enabled ? record.devices : [], this.deps.clock.now()).map(toView);
  }

  async forget(userId: string, deviceId: string): Promise<void> {
    if (!(await this.deps.factors.removeDevice(userId, deviceId, [this.deps.events.make(userId, 'DEVICE_FORGOTTEN', { deviceId })]))) {
      throw new MfaError(ErrorReason.DEVICE_NOT_FOUND, 'this user has no remembered device with that device_id');
    }
  }
}

/** Devices not yet expired, newest first. */
export function liveDevices(devices: readonly DeviceRecord[], now: Date): DeviceRecord[] {
  return devices
    .filter((d) => d.expiresAt.getTime() > now.getTime())
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
}
