import { Duration } from 'aws-cdk-lib';
import type { HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmWidget,
  ComparisonOperator,
  Dashboard,
  type IMetric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { WORK_LANES, type WorkLane } from '../lambdas/core/render-jobs.js';
import type { LaneQueues } from './work-queues.js';

/** A render job still waiting after this long means the lane's consumers are stuck or far behind. */
export const MAX_QUEUE_AGE = Duration.minutes(15);

export interface PipelineMonitoringProps {
  readonly lanes: Readonly<Record<WorkLane, LaneQueues>>;
  readonly apiStage: HttpStage;
  /** @default - a new topic */
  readonly alarmTopic?: ITopic;
}

interface AlarmSpec {
  readonly metric: IMetric;
  /** The alarm fires when the metric goes above this. */
  readonly above: number;
  readonly description: string;
}

/**
 * Alarms on what needs a human (parked jobs and events, stuck lanes, failing or throttled functions,
 * API 5xx), all notifying one SNS topic, and a dashboard of the same alarms.
 */
export class PipelineMonitoring extends Construct {
  public readonly alarmTopic: ITopic;
  public readonly dashboard: Dashboard;
  private readonly alarmList: Alarm[] = [];

  constructor(scope: Construct, id: string, props: PipelineMonitoringProps) {
    super(scope, id);
    // Not encrypted: CloudWatch cannot publish to a topic under the AWS-managed aws/sns key (its key
    // policy cannot grant cloudwatch.amazonaws.com), and alarm notifications carry no image data.
    this.alarmTopic = props.alarmTopic ?? new Topic(this, 'AlarmTopic', { enforceSSL: true });
    this.dashboard = new Dashboard(this, 'Dashboard');

    for (const lane of WORK_LANES) this.monitorWorkQueue(lane, props.lanes[lane], 'renders');
    this.addAlarmRow('API', {
      Api5xx: {
        metric: props.apiStage.metricServerError({ statistic: 'Sum', period: Duration.minutes(5) }),
        above: 0,
        description: 'The API answered 5xx: a dependency is failing or the handler threw.',
      },
    });
  }

  /** The alarms created so far, the ones added by monitorFunction included. */
  public get alarms(): readonly Alarm[] {
    return this.alarmList;
  }

  /**
   * Alarms on a function's errors and throttles; every Aperture function should be monitored.
   * `throttled` says what a throttle means for this function, when not that the account ran out.
   */
  public monitorFunction(fn: IFunction, label: string, throttled?: string): void {
    const period = Duration.minutes(5);
    this.addAlarmRow(label, {
      [`${label}Errors`]: {
        metric: fn.metricErrors({ statistic: 'Sum', period }),
        above: 0,
        description: `${label} invocations failed: see its log group.`,
      },
      [`${label}Throttles`]: {
        metric: fn.metricThrottles({ statistic: 'Sum', period }),
        above: 0,
        description: throttled ?? `${label} was throttled: account concurrency is exhausted.`,
      },
    });
  }

  /**
   * Alarms on a work queue: any job parked in its dead-letter queue, and a job waiting longer than
   * `MAX_QUEUE_AGE` (its `work` stuck or far behind).
   */
  public monitorWorkQueue(name: string, queues: LaneQueues, work: string): void {
    const { queue, deadLetterQueue } = queues;
    this.addAlarmRow(`${name} lane`, {
      [`${name}DeadLetters`]: deadLetters(
        deadLetterQueue,
        `A ${name} job failed every attempt and is parked in its DLQ: fix the cause, then redrive.`,
      ),
      [`${name}OldestMessage`]: {
        metric: queue.metricApproximateAgeOfOldestMessage({
          statistic: 'Maximum',
          period: Duration.minutes(5),
        }),
        above: MAX_QUEUE_AGE.toSeconds(),
        description: `A ${name} job has waited over ${MAX_QUEUE_AGE.toMinutes()} minutes: ${work} are stuck or far behind.`,
      },
    });
  }

  /**
   * Alarms on a stream's consumer: a change given up after every retry (parked in `failures`), and
   * the consumer falling behind by over `MAX_QUEUE_AGE`.
   */
  public monitorStream(fn: IFunction, failures: IQueue, label: string): void {
    this.addAlarmRow(`${label} stream`, {
      [`${label}DeadLetters`]: deadLetters(
        failures,
        `${label}: a catalog change could not be announced after every retry; its position in the stream is parked. Fix the cause; the stream keeps a change 24 hours.`,
      ),
      [`${label}IteratorAge`]: {
        metric: fn.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(5) }),
        above: MAX_QUEUE_AGE.toMilliseconds(),
        description: `${label}: events are over ${MAX_QUEUE_AGE.toMinutes()} minutes behind the catalog's changes.`,
      },
    });
  }

  /** Alarms on a state machine's executions that failed or timed out: each is a run left unfinished. */
  public monitorStateMachine(stateMachine: IStateMachine, label: string, description: string): void {
    const period = Duration.minutes(5);
    this.addAlarmRow(`${label} runs`, {
      [`${label}ExecutionsFailed`]: {
        metric: stateMachine.metricFailed({ statistic: 'Sum', period }),
        above: 0,
        description,
      },
      [`${label}ExecutionsTimedOut`]: {
        metric: stateMachine.metricTimedOut({ statistic: 'Sum', period }),
        above: 0,
        description,
      },
    });
  }

  /** An alarm on any message in a dead-letter queue: each one is work that failed for good. */
  public monitorDeadLetterQueue(queue: IQueue, label: string, description: string): void {
    this.addAlarmRow(label, { [`${label}DeadLetters`]: deadLetters(queue, description) });
  }

  private addAlarmRow(title: string, specs: Record<string, AlarmSpec>): void {
    const widgets = Object.entries(specs).map(([id, spec]) => {
      const alarm = new Alarm(this, id, {
        metric: spec.metric,
        threshold: spec.above,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // No data means no messages or no invocations: nothing is wrong.
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: spec.description,
      });
      alarm.addAlarmAction(new SnsAction(this.alarmTopic));
      this.alarmList.push(alarm);
      return new AlarmWidget({ alarm, title: `${title}: ${id}`, width: 8 });
    });
    this.dashboard.addWidgets(...widgets);
  }
}

function deadLetters(queue: IQueue, description: string): AlarmSpec {
  return {
    metric: queue.metricApproximateNumberOfMessagesVisible({
      statistic: 'Maximum',
      period: Duration.minutes(1),
    }),
    above: 0,
    description,
  };
}
