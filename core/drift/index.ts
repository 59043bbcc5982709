// The drift detection engine: pure, deterministic, no I/O.
export {
  codedSources,
  columnsFrame,
  type FeatureColumn,
  type FeatureFrame,
  type FeatureKind,
  featureFrame,
  frameRows,
} from './frame';
export {
  DriftCorrection,
  DriftMethod,
  DriftSettings,
  type DriftSettingsInput,
  FeatureDriftOverride,
  isPValueMethod,
} from './settings';
export { CategoricalProfile, FeatureProfile, NumericProfile, profileReference, ReferenceProfile } from './profile';
export { DriftReport, detectDrift, detectWindowDrift, FeatureDriftResult } from './report';
export { WindowProfile, WindowProfileJson } from './windowProfile';
export { adjustPValues, datasetVerdict } from './decision';
export { chooseMethod, DEFAULT_THRESHOLDS, defaultMethod } from './methods';
export {
  chi2Contingency,
  distributionOf,
  jensenShannon,
  ks2samp,
  psi,
  twoProportionZTest,
  wasserstein,
} from './statistics';
export { chi2Sf, normalTwoSided } from './gamma';
