// The criticality rank of an incident, which orders the incident list, with
// the factors behind it, so that the report can show why an incident is
// ranked where it is. docs/correlator.md describes the formula.
import { longestProgression, STAGE_NAMES, type Stage, type StageSpan } from "./attack.js";

// Points per tactic beyond the first, and their maximum.
export const RANK_PER_TACTIC = 5;
export const RANK_TACTICS_MAX = 20;
// Points per progression stage beyond the first (discovery, credential
// access, lateral movement, execution, reached in that order).
export const RANK_PER_STAGE = 10;
// Points for a pivot from IT into OT.
export const RANK_PIVOT = 30;
// Points per configured critical host touched, and their maximum.
export const RANK_PER_CRITICAL_HOST = 15;
export const RANK_CRITICAL_MAX = 30;
// Points per OT device touched, and their maximum.
export const RANK_PER_OT_DEVICE = 5;
export const RANK_OT_DEVICES_MAX = 15;
// Share of the rank removed when every alert is routine; a part of the
// alerts removes that part of this share.
export const RANK_ROUTINE_CUT = 0.5;

export interface RankInputs {
  // The incident score: highest alert score plus the model and technique bonus.
  score: number;
  tactics: string[];
  stageSpans: ReadonlyMap<Stage, StageSpan>;
  pivot: boolean;
  criticalHosts: string[];
  otDevices: number;
  alerts: number;
  routineAlerts: number;
}

export interface RankFactor {
  factor: "score" | "tactics" | "progression" | "pivot" | "critical_hosts" | "ot_devices" | "routine";
  points: number;
  reason: string;
}

export interface Rank {
  rank: number;
  why: RankFactor[];
  progression: Stage[];
}

export function rankIncident(inputs: RankInputs): Rank {
  const why: RankFactor[] = [{ factor: "score", points: inputs.score, reason: `incident score ${inputs.score}` }];
  const extraTactics = Math.max(0, inputs.tactics.length - 1);
  if (extraTactics > 0) {
    const points = Math.min(RANK_TACTICS_MAX, RANK_PER_TACTIC * extraTactics);
    why.push({ factor: "tactics", points, reason: `${inputs.tactics.length} ATT&CK tactics (${inputs.tactics.join(", ")})` });
  }

  const progression = longestProgression(inputs.stageSpans);
  if (progression.length >= 2) {
    why.push({
      factor: "progression", points: RANK_PER_STAGE * (progression.length - 1),
      reason: `progression ${progression.map((stage) => STAGE_NAMES[stage]).join(" -> ")}`,
    });
  }

  if (inputs.pivot) why.push({ factor: "pivot", points: RANK_PIVOT, reason: "a host reached from IT then commanded OT devices" });
  if (inputs.criticalHosts.length > 0) {
    const points = Math.min(RANK_CRITICAL_MAX, RANK_PER_CRITICAL_HOST * inputs.criticalHosts.length);
    why.push({ factor: "critical_hosts", points, reason: `critical host(s) ${inputs.criticalHosts.join(", ")}` });
  }
  if (inputs.otDevices > 0) {
    const points = Math.min(RANK_OT_DEVICES_MAX, RANK_PER_OT_DEVICE * inputs.otDevices);
    why.push({ factor: "ot_devices", points, reason: `${inputs.otDevices} OT device(s) touched` });
  }

  const subtotal = why.reduce((sum, factor) => sum + factor.points, 0);
  let rank = subtotal;
  if (inputs.routineAlerts > 0 && inputs.alerts > 0) {
    const share = inputs.routineAlerts / inputs.alerts;
    const cut = Math.round(subtotal * RANK_ROUTINE_CUT * share);
    rank = subtotal - cut;
    why.push({ factor: "routine", points: -cut, reason: `${inputs.routineAlerts} of ${inputs.alerts} alert(s) seen before or routine` });
  }
  return { rank, why, progression };
}

// The rank with its factors on one line, for reports.
export function explainRank(rank: Rank): string {
  return `${rank.rank} = ${explainFactors(rank.why)}`;
}

// The factors with their signed points, separated by semicolons.
export function explainFactors(why: RankFactor[]): string {
  return why.map((factor) => `${factor.points >= 0 ? "+" : ""}${factor.points} ${factor.reason}`).join("; ");
}
