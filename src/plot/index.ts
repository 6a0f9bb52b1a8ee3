export {
  lineChart,
  barChart,
  scatterChart,
  escapeXml,
  PALETTE,
  type Point,
  type PointSeries,
  type BarSeries,
  type ChartOptions,
  type LineChartOptions,
  type ScatterChartOptions,
  type BarChartOptions,
} from './svg.js';
