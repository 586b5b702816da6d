import { expect } from 'chai';
import { PERIOD_MS, type BenchUser } from '../../bench/bench-users.js';
import { TotpTickets } from '../../bench/totp-tickets.js';

/** A user who confirmed with `step`'s code. */
function userAt(userId: string, step: number, secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'): BenchUser {
  return { userId, secret, scheduledStep: step, spentStep: step, codes: new Map(), copyCurrent: false, inFlight: null, deviceToken: null };
}

describe('bench TOTP tickets', () => {
  // 5 s into step 1000: the current step and the next are usable, the previous one is not (a call may take 10 s to arrive).
  const now = 1000 * PERIOD_MS + 5_000;

  it('hands out each user\'s later steps only, in layers, until they are spent', () => {
    const users = [userAt('a', 999), userAt('b', 1000)];
    const tickets = new TotpTickets(users);
    const taken = [];
    for (let ticket = tickets.take(now); ticket !== null; ticket = tickets.take(now)) taken.push(`${ticket.user.userId}${ticket.step}`);
    expect(taken).to.deep.equal(['a1000', 'a1001', 'b1001']);
    expect(users.map((user) => user.spentStep)).to.deep.equal([1001, 1001]);
  });

  it('hands out one user\'s next step out of turn, and the queue then skips that user\'s older steps', () => {
    const users = [userAt('a', 999), userAt('b', 999)];
    const tickets = new TotpTickets(users);
    expect(tickets.take(now)).to.deep.include({ step: 1000 }); // a's 1000; b's 1000 waits in the queue
    const outOfTurn = tickets.takeFor(users[1]!, now);
    expect(outOfTurn).to.deep.include({ user: users[1], step: 1000 });
    const rest = [];
    for (let ticket = tickets.take(now); ticket !== null; ticket = tickets.take(now)) rest.push(`${ticket.user.userId}${ticket.step}`);
    expect(rest).to.deep.equal(['a1001', 'b1001']);
    expect(tickets.takeFor(users[0]!, now), 'a has nothing left').to.equal(null);
  });

  it('skips a step that shows the code of the step handed out before it (the server spends both)', () => {
    // RFC 6238's SHA1 seed (base32) shows 963181 at both steps 59061240 and 59061241.
    const user = userAt('r', 59_061_239, 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    const tickets = new TotpTickets([user]);
    const at = 59_061_240 * PERIOD_MS + 5_000;
    expect(tickets.take(at)).to.deep.include({ step: 59_061_240 });
    expect(user.spentStep).to.equal(59_061_241);
    expect(tickets.take(at), 'step 59061241 is spent with it').to.equal(null);
    expect(tickets.takeFor(user, at)).to.equal(null);
  });

  it('skips the steps up to one two steps on that shows the code handed out (a call may arrive a step late)', () => {
    // RFC 6238's SHA1 seed shows 768734 at steps 61331809 and 61331811, and 323910 at 61331810.
    const user = userAt('s', 61_331_808, 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    const tickets = new TotpTickets([user]);
    expect(tickets.takeFor(user, 61_331_809 * PERIOD_MS + 5_000)).to.deep.include({ step: 61_331_809 });
    expect(user.spentStep).to.equal(61_331_811);
    expect(tickets.takeFor(user, 61_331_811 * PERIOD_MS + 5_000)).to.deep.include({ step: 61_331_812 });
  });

  it('counts what the users can still yield over a window, without what was handed out', () => {
    const users = [userAt('a', 999), userAt('b', 1000)];
    const tickets = new TotpTickets(users);
    // From now to 40 s later (step 1001's period): a yields 1000..1002, b 1001..1002.
    expect(tickets.capacity(now, now + 40_000)).to.equal(5);
    tickets.takeFor(users[0]!, now);
    expect(tickets.capacity(now, now + 40_000)).to.equal(4);
    // A window 5 s before step 1003 (a call may take 10 s to arrive) can use 1002 and 1003 of each user, not 1001.
    expect(tickets.capacity(1002 * PERIOD_MS + 25_000, 1002 * PERIOD_MS + 26_000)).to.equal(4);
  });
});
